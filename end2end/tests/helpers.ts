import { type Browser, type Page, expect } from "@playwright/test";

/** The admin the test server is started with (see playwright.config.ts). */
export const ADMIN = { email: "admin@e2e.test", password: "e2e admin password" };

let counter = 0;

/** Registers a new customer in this page's browser context and waits until signed in. */
export async function registerCustomer(page: Page, name = "Customer"): Promise<string> {
  const email = `${name.toLowerCase()}-${Date.now()}-${counter++}@e2e.test`;
  await page.goto("/register");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password (at least 10 characters)").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(name);
  return email;
}

export async function logInAsAdmin(page: Page): Promise<void> {
  await page.goto("/login?next=%2Fadmin");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/admin$/);
}

/** Opens a show's page from the list of what's on, hydrated. */
export async function openShow(page: Page, title: string): Promise<void> {
  await page.goto("/");
  await page.getByRole("link", { name: title, exact: true }).click();
  await expect(page.getByRole("heading", { name: title, level: 1 })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

export function seat(page: Page, label: string) {
  return page.locator(`[data-seat="${label}"]`);
}

export async function newCustomerPage(browser: Browser, name: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await registerCustomer(page, name);
  return page;
}
