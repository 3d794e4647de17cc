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

  // No test holds seats without JavaScript: the show page's seat map and hold buttons are not
  // a form (the buttons are type="button" and hold_seats takes JSON), so before hydration there
  // is no way to hold seats. Add the test when the page gets a form that posts the chosen seats.
});
