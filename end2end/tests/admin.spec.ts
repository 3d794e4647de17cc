import { expect, test } from "@playwright/test";
import { logInAsAdmin, newCustomerPage, openShow, registerCustomer, seat } from "./helpers";

test("an admin creates a 2+2 bus trip, a customer books on it, and the admin sees the sale", async ({ page, browser }) => {
  await logInAsAdmin(page);
  await page.getByRole("link", { name: "New show or trip" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Kind").selectOption("TRIP");
  await page.getByLabel("Title").fill("Harbour Shuttle");
  await page.getByLabel("From").fill("Kochi");
  await page.getByLabel("To").fill("Munnar");
  const tomorrow = new Date(Date.now() + 36 * 3600 * 1000).toISOString().slice(0, 16);
  await page.getByLabel("Starts (UTC)").fill(tomorrow);
  await page.getByRole("button", { name: "2+2 bus" }).click();
  await expect(page.getByLabel("Row A category")).toHaveValue("PREMIUM");
  await expect(page.getByLabel("Row B category")).toHaveValue("PREMIUM");
  await expect(page.getByLabel("Row C category")).toHaveValue("STD");
  await page.getByLabel("Blocked seats (not for sale), e.g. A1, C7").fill("C3");
  // The live preview follows the builder.
  await expect(page.getByTestId("preview-count")).toHaveText("39 seats for sale");
  await expect(page.locator('[data-seat="C3"]')).toHaveAttribute("data-status", "blocked");
  await page.getByLabel("Row J aisles").fill("9");
  await expect(page.getByTestId("layout-error")).toContainText("aisle after seat 9");
  await page.getByLabel("Row J aisles").fill("2");
  await page.getByRole("button", { name: "Create" }).click();

  await expect(page.getByTestId("show-title")).toHaveText("Harbour Shuttle");
  const detailUrl = page.url();
  await page.getByRole("link", { name: "← Dashboard" }).click();
  const row = page.locator('tr[data-show="Harbour Shuttle"]');
  await expect(row.getByTestId("sales-figures")).toHaveText("0 sold · 0 held · 39 free · 1 blocked");

  const customer = await newCustomerPage(browser, "Cleo");
  await openShow(customer, "Harbour Shuttle");
  await seat(customer, "A1").click();
  await seat(customer, "A2").click();
  await expect(customer.getByTestId("total")).toHaveText("Total 30.00");
  await customer.getByRole("button", { name: "Hold 2 seats" }).click();
  await customer.getByRole("button", { name: "Confirm and pay" }).click();
  await expect(customer.getByRole("heading", { name: "You're booked!" })).toBeVisible();

  await page.reload();
  await expect(row.getByTestId("sales-figures")).toHaveText("2 sold · 0 held · 37 free · 1 blocked");
  await expect(row.getByTestId("revenue")).toHaveText("30.00");
  await page.goto(detailUrl);
  await expect(page.getByTestId("revenue")).toHaveText("30.00");
  await expect(page.getByTestId("bookings-table")).toContainText("Cleo");
  await expect(page.getByTestId("bookings-table")).toContainText("A1, A2");
  await expect(page.locator('[data-seat="A1"]')).toHaveAttribute("data-status", "booked");
});

test("a customer who opens /admin is refused, and a guest is sent to log in", async ({ page, browser }) => {
  const guest = await browser.newPage();
  await guest.goto("/admin");
  await expect(guest).toHaveURL(/\/login\?next=%2Fadmin$/);
  await expect(guest.getByRole("heading", { name: "Log in" })).toBeVisible();

  await registerCustomer(page, "Nosy");
  const response = await page.goto("/admin");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("alert")).toContainText("Only admins can do that.");
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
});
