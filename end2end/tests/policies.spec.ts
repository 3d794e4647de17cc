import { expect, request, test } from "@playwright/test";
import { ADMIN, logInAsAdmin, newCustomerPage, openShow, seat } from "./helpers";

test("an admin sets a cancellation policy; a customer reads it before paying, cancels one seat and gets the refund it promised", async ({ page, browser, baseURL }) => {
  // A show of three seats 30 hours from now, made by the admin over REST.
  const title = `Policy Night ${Date.now()}`;
  const api = await request.newContext({ baseURL });
  expect((await api.post("/api/v1/auth/login", { data: ADMIN })).status()).toBe(200);
  const created = await api.post("/api/v1/admin/shows", {
    data: {
      kind: "SHOW",
      title,
      venue: "Side Stage",
      starts_at: new Date(Date.now() + 30 * 3600 * 1000).toISOString(),
      categories: [{ code: "STD", name: "Standard", price_cents: 1500 }],
      rows: [{ label: "A", seats: 3, category: "STD" }],
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  await api.dispose();

  // The admin: full refund up to 48 hours before, half up to 24 hours before.
  await logInAsAdmin(page);
  await page.getByRole("link", { name: title }).click();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Step 1: hours before the start").fill("48");
  await page.getByLabel("Step 1: refund percent").fill("100");
  await page.getByLabel("Step 2: hours before the start").fill("24");
  await page.getByLabel("Step 2: refund percent").fill("50");
  await page.getByRole("button", { name: "Save policy" }).click();
  const now = page.getByTestId("cancellation-policy");
  await expect(now).toContainText("Cancel at least 2 days before the start for a full refund.");
  await expect(now).toContainText("Cancel at least 24 hours before the start for a 50% refund.");

  // A customer reads it on the show page and again at checkout, before paying.
  const ada = await newCustomerPage(browser, "Ada");
  await openShow(ada, title);
  await expect(ada.getByTestId("cancellation-policy")).toContainText("Cancel at least 24 hours before the start for a 50% refund.");
  await seat(ada, "A1").click();
  await seat(ada, "A2").click();
  await ada.getByRole("button", { name: "Hold 2 seats" }).click();
  await expect(ada).toHaveURL(/\/checkout\/\d+$/);
  await expect(ada.getByTestId("cancellation-policy")).toContainText("If you cancel");
  await expect(ada.getByTestId("cancellation-policy")).toContainText("Less than 24 hours before the start you can still cancel, with no refund.");
  await ada.getByRole("button", { name: "Confirm and pay" }).click();
  await expect(ada.getByRole("heading", { name: "You're booked!" })).toBeVisible();
  const reference = (await ada.getByTestId("booking-reference").textContent())!;

  // She gives up one seat: 30 hours ahead, half of its price comes back; the other stays booked.
  await ada.getByRole("link", { name: "My bookings", exact: true }).click();
  const booking = ada.locator(`[data-booking="${reference}"]`);
  await booking.getByText("Cancel some seats").click();
  await booking.getByTestId("cancel-some-seats").getByLabel("A1").check();
  ada.once("dialog", (dialog) => dialog.accept());
  await booking.getByRole("button", { name: "Cancel 1 selected" }).click();
  await expect(booking.getByTestId("booking-seats")).toHaveText("A2");
  await expect(booking.getByTestId("booking-status")).toHaveText("Confirmed");
  await expect(booking.getByTestId("refunds")).toHaveText("Refunded 7.50 (50% of 15.00) for seats A1");

  // The seat is on sale again, and the admin sees the refund.
  await openShow(ada, title);
  await expect(seat(ada, "A1")).toHaveAttribute("data-status", "available");
  await expect(seat(ada, "A2")).toHaveAttribute("data-status", "booked");
  await page.reload();
  await expect(page.getByTestId("refunded")).toHaveText("7.50");
  await expect(page.getByTestId("booking-refunded")).toHaveText("7.50");
});
