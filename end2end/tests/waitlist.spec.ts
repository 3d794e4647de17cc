import { expect, request, test } from "@playwright/test";
import { ADMIN, newCustomerPage, openShow, seat } from "./helpers";

test("a customer joins the waiting list of a sold-out show, another cancels, and the first sees the offer live and books it", async ({ browser, baseURL }) => {
  // A show of two seats, made by the admin over REST.
  const title = `Tiny Room ${Date.now()}`;
  const admin = await request.newContext({ baseURL });
  expect((await admin.post("/api/v1/auth/login", { data: ADMIN })).status()).toBe(200);
  const created = await admin.post("/api/v1/admin/shows", {
    data: {
      kind: "SHOW",
      title,
      venue: "Back Room",
      starts_at: new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString(),
      categories: [{ code: "STD", name: "Standard", price_cents: 1500 }],
      rows: [{ label: "A", seats: 2, category: "STD" }],
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  await admin.dispose();

  // Bob books both seats: sold out.
  const bob = await newCustomerPage(browser, "Bob");
  await openShow(bob, title);
  await seat(bob, "A1").click();
  await seat(bob, "A2").click();
  await bob.getByRole("button", { name: "Hold 2 seats" }).click();
  await bob.getByRole("button", { name: "Confirm and pay" }).click();
  await expect(bob.getByRole("heading", { name: "You're booked!" })).toBeVisible();
  const reference = (await bob.getByTestId("booking-reference").textContent())!;

  // Ada joins the waiting list with a party of two.
  const ada = await newCustomerPage(browser, "Ada");
  await openShow(ada, title);
  await expect(ada.getByTestId("waitlist-join")).toContainText("This show is sold out.");
  await ada.getByLabel("Party of").selectOption("2");
  await ada.getByRole("button", { name: "Join the waiting list" }).click();
  await expect(ada.getByTestId("waitlist-place")).toHaveText("You are number 1 on the waiting list");

  // Bob cancels; Ada's page, not reloaded, shows the seats held for her.
  await bob.getByRole("link", { name: "My bookings", exact: true }).click();
  const booking = bob.locator(`[data-booking="${reference}"]`);
  bob.once("dialog", (dialog) => dialog.accept());
  await booking.getByRole("button", { name: "Cancel booking" }).click();
  await expect(booking.getByTestId("booking-status")).toHaveText("Cancelled");

  await expect(ada.getByTestId("waitlist-offer")).toHaveText(/^Seats A1, A2 held for you until \d\d:\d\d UTC$/);
  await expect(ada.getByRole("status").filter({ hasText: "held for you" })).toBeVisible();
  await expect(seat(ada, "A1")).toHaveAttribute("data-status", "held");
  await ada.getByRole("link", { name: "Book them" }).click();
  await expect(ada).toHaveURL(/\/checkout\/\d+$/);
  await expect(ada.getByTestId("checkout-seats")).toHaveText("A1, A2");
  await ada.getByRole("button", { name: "Confirm and pay" }).click();
  await expect(ada.getByRole("heading", { name: "You're booked!" })).toBeVisible();
});
