import { expect, test } from "@playwright/test";

// Forms that work before hydration must keep working without it: JavaScript off altogether.
test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a customer logs in with the plain log-in form and the session holds", async ({ page, request }) => {
    // An account made through the API: its cookie stays in `request`, not in this browser.
    const email = `noor-${Date.now()}@e2e.test`;
    const created = await request.post("/api/v1/auth/register", {
      data: { email, name: "Noor", password: "correct horse battery" },
    });
    expect(created.status()).toBe(201);

    await page.goto("/login");
    await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Log in" }).click();
    // The form posted to the server function, which sent the browser back to the page.
    await expect(page).toHaveURL(/\/login\??$/);
    await expect(page.getByRole("main").getByRole("status")).toContainText("You are logged in as Noor.");
    await expect(page.getByTestId("signed-in-as")).toHaveText("Noor");
    await expect(page.getByTestId("form-error")).toHaveCount(0);
    // No script ran at any point.
    await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");

    // The session is the server's: a page only a signed-in customer can read renders hers.
    await page.goto("/bookings");
    await expect(page.getByRole("heading", { name: "My bookings" })).toBeVisible();
    await expect(page.getByText("No bookings yet.")).toBeVisible();
  });

  test("a customer holds the best seats with the plain form and reaches the checkout", async ({ page, request }) => {
    const email = `nadia-${Date.now()}@e2e.test`;
    const created = await request.post("/api/v1/auth/register", {
      data: { email, name: "Nadia", password: "correct horse battery" },
    });
    expect(created.status()).toBe(201);
    const shows = await (await request.get("/api/v1/shows")).json();
    const show = shows.find((s: { available_seats: number }) => s.available_seats >= 2);
    expect(show, "a show with two free seats").toBeTruthy();

    await page.goto("/login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByTestId("signed-in-as")).toHaveText("Nadia");

    await page.goto(`/shows/${show.id}`);
    await page.getByRole("button", { name: /Best \d+ available/ }).click();
    // The form posted to the server, which held the seats and sent the browser to the checkout.
    await expect(page).toHaveURL(/\/checkout\/\d+$/);
    const id = Number(page.url().split("/").pop());
    await expect(page.getByTestId("checkout-seats")).not.toBeEmpty();
    await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
    // `request` is signed in as Nadia too (it registered her): the hold is hers, as asked.
    const held = await (await request.get(`/api/v1/bookings/${id}`)).json();
    expect(held.status).toBe("PENDING");
    expect(held.show_id).toBe(show.id);
    expect(held.seats.length).toBe(2);
  });
});
