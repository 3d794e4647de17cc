import { expect, test } from "@playwright/test";

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the home page is served with its content before any script runs", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "What's on" })).toBeVisible();
    // The embedded default seeds demo shows on its first start.
    await expect(page.getByRole("heading", { name: "The Midnight Reel" })).toBeVisible();
    await expect(page.getByText("Pune → Mumbai")).toBeVisible();
    // No script ran, so the page was not hydrated.
    await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  });

  test("the search works as a plain form", async ({ page }) => {
    await page.goto("/");
    await page.getByRole("searchbox", { name: "Search shows and trips" }).fill("opera");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/\?q=opera(&date=)?$/);
    await expect(page.getByText("No shows or trips match “opera”.")).toBeVisible();
  });
});

test("after hydration the search filters as you type", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  // Typing alone (no Enter, no click) changes the page only if the WASM app handles it.
  const search = page.getByRole("searchbox", { name: "Search shows and trips" });
  await search.pressSequentially("sleeper");
  await expect(page).toHaveURL(/\?q=sleeper$/);
  await expect(page.getByRole("heading", { name: "Night Sleeper" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Hamlet" })).toBeHidden();
  await search.fill("ballet");
  await expect(page.getByText("No shows or trips match “ballet”.")).toBeVisible();
});

test("unknown pages show the not-found page with status 404", async ({ page }) => {
  const response = await page.goto("/nowhere");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await page.getByRole("link", { name: "See what's on" }).click();
  await expect(page.getByRole("heading", { name: "What's on" })).toBeVisible();
});

test("health and readiness endpoints answer", async ({ request }) => {
  const alive = await request.get("/healthz");
  expect(alive.status()).toBe(200);
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  expect(await ready.text()).toBe("ready");
});
