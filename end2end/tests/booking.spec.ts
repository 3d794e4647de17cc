import { expect, test } from "@playwright/test";
import { newCustomerPage, openShow, registerCustomer, seat } from "./helpers";

test("a customer selects, holds, confirms, finds and cancels a booking, and the seats are free again", async ({ page }) => {
  await registerCustomer(page, "Ada");
  await openShow(page, "Hamlet");
  await seat(page, "D5").click();
  await seat(page, "D6").click();
  await expect(page.getByTestId("selection")).toHaveText("D5, D6");
  await expect(page.getByTestId("total")).toHaveText("Total 440.00");
  await page.getByRole("button", { name: "Hold 2 seats" }).click();

  await expect(page).toHaveURL(/\/checkout\/\d+$/);
  await expect(page.getByTestId("checkout-seats")).toHaveText("D5, D6");
  const countdown = page.getByTestId("countdown");
  await expect(countdown).toHaveText(/^0:\d\d$/);
  const first = await countdown.textContent();
  await expect(countdown).not.toHaveText(first!, { timeout: 3_000 }); // it is counting down
  await page.getByRole("button", { name: "Confirm and pay" }).click();

  await expect(page.getByRole("heading", { name: "You're booked!" })).toBeVisible();
  const reference = (await page.getByTestId("booking-reference").textContent())!;
  expect(reference).toMatch(/^BX-\d{6}$/);

  await page.getByRole("link", { name: "My bookings", exact: true }).click();
  const booking = page.locator(`[data-booking="${reference}"]`);
  await expect(booking.getByTestId("booking-status")).toHaveText("Confirmed");
  page.once("dialog", (dialog) => dialog.accept());
  await booking.getByRole("button", { name: "Cancel booking" }).click();
  await expect(booking.getByTestId("booking-status")).toHaveText("Cancelled");

  await openShow(page, "Hamlet");
  await expect(seat(page, "D5")).toHaveAttribute("aria-label", "Row D, seat 5, Standard, 220.00, available");
  await expect(seat(page, "D6")).toHaveAttribute("data-status", "available");
});

test("two customers: one's hold shows on the other's map live, and only one gets a contested seat", async ({ browser }) => {
  const ada = await newCustomerPage(browser, "Ada");
  const bob = await newCustomerPage(browser, "Bob");
  await openShow(ada, "The Midnight Reel");
  await openShow(bob, "The Midnight Reel");

  await seat(ada, "C3").click();
  await seat(ada, "C4").click();
  await ada.getByRole("button", { name: "Hold 2 seats" }).click();
  await expect(ada).toHaveURL(/\/checkout\/\d+$/);
  // Bob's page was not reloaded: the feed told it.
  await expect(seat(bob, "C3")).toHaveAttribute("data-status", "held");
  await expect(seat(bob, "C4")).toHaveAttribute("aria-label", /, held$/);

  await openShow(ada, "The Midnight Reel");
  await seat(ada, "E7").click();
  await seat(bob, "E7").click();
  // Both at once. If the feed already told one of them, its button is disabled and the
  // forced click does nothing: that customer has been told already.
  await Promise.all([
    ada.getByTestId("hold-button").click({ force: true }),
    bob.getByTestId("hold-button").click({ force: true }),
  ]);
  const won = async (page: typeof ada) => /\/checkout\/\d+$/.test(page.url());
  await expect
    .poll(async () => (await won(ada)) !== (await won(bob)), { timeout: 10_000 })
    .toBe(true);
  const loser = (await won(ada)) ? bob : ada;
  await expect(loser.getByTestId("toasts")).toContainText("seat E7 was just taken by someone else");
  await expect(seat(loser, "E7")).not.toHaveAttribute("data-status", "available");
  await expect(loser.getByTestId("selection")).toHaveText(/None chosen yet/);
});

test("seats are chosen and held with the keyboard alone", async ({ page }) => {
  await registerCustomer(page, "Kay");
  await openShow(page, "Morning Express");
  await page.getByRole("button", { name: /^Row A, seat 1,/ }).focus();
  await page.keyboard.press("ArrowRight"); // A2
  await page.keyboard.press("ArrowDown"); // B2
  await page.keyboard.press("Enter");
  await page.keyboard.press("ArrowRight"); // B3, across the aisle
  await page.keyboard.press("Space");
  await expect(page.getByRole("button", { name: /^Row B, seat 2, .*selected$/ })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("selection")).toHaveText("B2, B3");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Hold 2 seats" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/checkout\/\d+$/);
  await expect(page.getByTestId("checkout-seats")).toHaveText("B2, B3");
  await page.getByRole("button", { name: "Release seats" }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/shows\/\d+$/);
  // The released seats are on sale again, and not chosen any more.
  for (const label of ["B2", "B3"]) {
    await expect(seat(page, label)).toHaveAttribute("data-status", "available");
    await expect(seat(page, label)).toHaveAttribute("aria-pressed", "false");
    await expect(seat(page, label)).toHaveAttribute("aria-label", /, available$/);
  }
  await expect(page.getByTestId("selection")).toHaveText(/None chosen yet/);
});

test("an unconfirmed hold runs out and its seats come back", async ({ page }) => {
  test.setTimeout(60_000);
  await registerCustomer(page, "Sam");
  await openShow(page, "Night Sleeper");
  await seat(page, "E1").click();
  await page.getByRole("button", { name: "Hold 1 seat" }).click();
  await expect(page).toHaveURL(/\/checkout\/\d+$/);
  // The test server holds seats for 15 seconds (playwright.config.ts).
  await expect(page.getByTestId("hold-expired")).toBeVisible({ timeout: 25_000 });
  await page.getByRole("link", { name: "Pick seats again" }).click();
  await expect(seat(page, "E1")).toHaveAttribute("data-status", "available", { timeout: 5_000 });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a seat map is readable before any script runs", async ({ page }) => {
    await page.goto("/");
    await page.getByRole("link", { name: "Hamlet", exact: true }).click();
    await expect(page.getByRole("group", { name: "Seats of Hamlet" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Row A, seat 1, Standard, 220.00, available" })).toBeVisible();
    await expect(page.getByText("Premium · 350.00")).toBeVisible();
  });
});

test("the seat map fits a 375 px phone screen and seats can be tapped", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, hasTouch: true });
  const page = await context.newPage();
  await openShow(page, "The Midnight Reel");
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  const map = await page.getByTestId("seat-map").boundingBox();
  expect(map!.x + map!.width).toBeLessThanOrEqual(375);
  await seat(page, "B12").tap();
  await expect(page.getByTestId("selection")).toHaveText("B12");
  await context.close();
});
