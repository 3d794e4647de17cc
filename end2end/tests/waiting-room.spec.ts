import { type Page, expect, request, test } from "@playwright/test";
import { ADMIN, logInAsAdmin, newCustomerPage, seat } from "./helpers";

/** Picks one seat on an admitted customer's page and books it through the checkout. */
async function book(page: Page, label: string): Promise<void> {
  await seat(page, label).click();
  await page.getByRole("button", { name: "Hold 1 seat" }).click();
  await expect(page).toHaveURL(/\/checkout\/\d+$/);
  await expect(page.getByTestId("checkout-seats")).toHaveText(label);
  await page.getByRole("button", { name: "Confirm and pay" }).click();
  await expect(page.getByRole("heading", { name: "You're booked!" })).toBeVisible();
}

test("a sale behind a waiting room: a countdown, random places 1 to 3 at the opening, admission in that order, and no seats without a pass", async ({ browser, baseURL }) => {
  test.setTimeout(150_000);

  // Three customers who will queue, and a fourth who will not (signing up is the slow part,
  // so it comes before the clock to the opening starts).
  const [ana, ben, cy, dee] = await Promise.all(
    ["Ana", "Ben", "Cy", "Dee"].map((name) => newCustomerPage(browser, name)),
  );
  const queued = [ana, ben, cy];

  // The admin makes a show of eight seats whose sale opens in 40 s behind a waiting room
  // admitting 6 a minute, one at a time (one every 10 s: room for a busy machine). Admissions start paused, so every
  // place given at the opening can be seen before anyone is let in.
  const title = `Flash Sale ${Date.now()}`;
  const admin = await request.newContext({ baseURL });
  expect((await admin.post("/api/v1/auth/login", { data: ADMIN })).status()).toBe(200);
  const created = await admin.post("/api/v1/admin/shows", {
    data: {
      kind: "SHOW",
      title,
      venue: "Small Hall",
      starts_at: new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString(),
      categories: [{ code: "STD", name: "Standard", price_cents: 2000 }],
      rows: [
        { label: "A", seats: 4, category: "STD" },
        { label: "B", seats: 4, category: "STD" },
      ],
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const showId: number = (await created.json()).id;
  const opensAt = new Date(Date.now() + 40_000);
  const sale = await admin.put(`/api/v1/admin/shows/${showId}/sale`, {
    data: {
      sale_opens_at: opensAt.toISOString(),
      waiting_room: { admissions_per_minute: 6, burst: 1, pass_minutes: 10 },
    },
  });
  expect(sale.status(), await sale.text()).toBe(200);
  const paused = await admin.post(`/api/v1/admin/shows/${showId}/waiting-room/pause`);
  expect(paused.status(), await paused.text()).toBe(200);
  await admin.dispose();

  // Each customer sees the countdown (it counts down in the page) and the waiting room
  // instead of the seat map, and joins.
  for (const page of queued) {
    await page.goto(`/shows/${showId}`);
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
    const countdown = page.getByTestId("sale-countdown");
    await expect(countdown).toHaveText(/^Sales open in 00:00:[0-4]\d · at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const shown = (await countdown.textContent())!;
    await expect(countdown).not.toHaveText(shown);
    await expect(page.getByTestId("seat-map")).toHaveCount(0);
    const room = page.getByTestId("waiting-room");
    await room.getByRole("button", { name: "Join the waiting room" }).click();
    await expect(room.getByRole("status")).toHaveText(
      "You're in the waiting room. When the sale opens, everyone here gets a random place in line — joining early gives no advantage.",
    );
    await expect(room.getByRole("button", { name: "Leave the waiting room" })).toBeVisible();
  }

  // The admin watches the sale.
  const adminPage = await (await browser.newContext()).newPage();
  await logInAsAdmin(adminPage);
  await adminPage.goto(`/admin/shows/${showId}`);
  await expect(adminPage.locator("html")).toHaveAttribute("data-hydrated", "true");
  const panel = adminPage.getByTestId("sale-panel");
  await expect(panel.getByTestId("sale-room-state")).toHaveText("Admissions are paused.");

  // The fourth customer, who did not join, sees the room (and a join button), not the seats.
  await dee.goto(`/shows/${showId}`);
  await expect(dee.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(dee.getByTestId("waiting-room").getByRole("button", { name: "Join the waiting room" })).toBeVisible();
  await expect(dee.getByTestId("seat-map")).toHaveCount(0);

  // The opening: each queued customer's page shows a number, live; together exactly 1, 2, 3.
  const byNumber = new Map<number, Page>();
  for (const page of queued) {
    const number = page.getByTestId("place-number");
    await expect(number).toHaveText(/^[123]$/, { timeout: 50_000 });
    await expect(page.getByTestId("place-wait")).toHaveText("· Admissions are paused");
    await expect(page.getByTestId("waiting-room").getByRole("status")).toContainText("3 people are waiting.");
    byNumber.set(Number(await number.textContent()), page);
  }
  expect([...byNumber.keys()].sort()).toEqual([1, 2, 3]);
  const [first, second, third] = [1, 2, 3].map((n) => byNumber.get(n)!);
  await expect(panel.getByTestId("sale-waiting")).toHaveText("3");
  await expect(panel.getByTestId("sale-admitted")).toHaveText("0");

  // After the opening, the one who did not join still cannot hold a seat, and still sees the room.
  const seats: { id: number; label: string }[] = (await (await dee.request.get(`/api/v1/shows/${showId}`)).json()).seats;
  const refused = await dee.request.post(`/api/v1/shows/${showId}/holds`, {
    data: { seat_ids: [seats.find((s) => s.label === "B4")!.id] },
  });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).code).toBe("not_admitted");
  await dee.reload();
  await expect(dee.getByTestId("waiting-room")).toBeVisible();
  await expect(dee.getByTestId("seat-map")).toHaveCount(0);

  // The admin resumes admissions: number 1 gets the seat map first, without a reload; the
  // others still wait, and their numbers moved down.
  await panel.getByRole("button", { name: "Resume admissions" }).click();
  await expect(first.getByTestId("pass-banner")).toHaveText(/^It's your turn: choose seats until \d\d:\d\d UTC$/);
  await expect(first.getByTestId("seat-map")).toBeVisible();
  await expect(second.getByTestId("place-number")).toHaveText("1");
  await expect(third.getByTestId("place-number")).toHaveText("2");
  await expect(second.getByTestId("seat-map")).toHaveCount(0);
  await expect(third.getByTestId("seat-map")).toHaveCount(0);
  await book(first, "A1");

  // Ten seconds after the first: the second, while the third waits as number 1.
  await expect(second.getByTestId("pass-banner")).toBeVisible({ timeout: 25_000 });
  await expect(third.getByTestId("place-number")).toHaveText("1");
  await expect(third.getByTestId("seat-map")).toHaveCount(0);
  await book(second, "A2");

  await expect(third.getByTestId("pass-banner")).toBeVisible({ timeout: 25_000 });
  await book(third, "A3");

  await expect(panel.getByTestId("sale-admitted")).toHaveText("3");
  await expect(panel.getByTestId("sale-waiting")).toHaveText("0");

  // The server's record agrees on the order: admitted 1, then 2, then 3.
  const admittedAt = [];
  for (const page of [first, second, third]) {
    const place = (await (await page.request.get(`/api/v1/shows/${showId}/waiting-room`)).json()).place;
    expect(place.state).toBe("admitted");
    admittedAt.push(Date.parse(place.admitted_at));
  }
  expect(admittedAt[0]).toBeLessThan(admittedAt[1]);
  expect(admittedAt[1]).toBeLessThan(admittedAt[2]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the server-rendered show page says where the customer stands, and its plain form joins the waiting room", async ({ page, baseURL }) => {
    const admin = await request.newContext({ baseURL });
    expect((await admin.post("/api/v1/auth/login", { data: ADMIN })).status()).toBe(200);
    const title = `Later Sale ${Date.now()}`;
    const created = await admin.post("/api/v1/admin/shows", {
      data: {
        kind: "SHOW",
        title,
        venue: "Small Hall",
        starts_at: new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString(),
        categories: [{ code: "STD", name: "Standard", price_cents: 2000 }],
        rows: [{ label: "A", seats: 4, category: "STD" }],
      },
    });
    expect(created.status(), await created.text()).toBe(201);
    const showId: number = (await created.json()).id;
    const sale = await admin.put(`/api/v1/admin/shows/${showId}/sale`, {
      data: {
        sale_opens_at: new Date(Date.now() + 3600_000).toISOString(),
        waiting_room: { admissions_per_minute: 60 },
      },
    });
    expect(sale.status(), await sale.text()).toBe(200);
    await admin.dispose();

    // A guest is asked to log in, coming back to the show.
    await page.goto(`/shows/${showId}`);
    const room = page.getByTestId("waiting-room");
    await expect(page.getByTestId("sale-countdown")).toHaveText(/^Sales open in (00:59:\d\d|01:00:00) · at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await expect(room.getByRole("link", { name: "Log in to join the waiting room" })).toHaveAttribute(
      "href",
      `/login?next=%2Fshows%2F${showId}`,
    );
    await expect(page.getByTestId("seat-map")).toHaveCount(0);

    // Signed in (with the plain log-in form), the customer joins with the plain form.
    const email = `wren-${Date.now()}@e2e.test`;
    const registered = await page.request.post("/api/v1/auth/register", {
      data: { email, name: "Wren", password: "correct horse battery" },
    });
    expect(registered.status()).toBe(201);
    await page.goto(`/shows/${showId}`);
    await room.getByRole("button", { name: "Join the waiting room" }).click();
    // The form posted to the server function, which sent the browser back to the page.
    await expect(page).toHaveURL(new RegExp(`/shows/${showId}\\??$`));
    await expect(room.getByRole("status")).toHaveText(
      "You're in the waiting room. When the sale opens, everyone here gets a random place in line — joining early gives no advantage.",
    );
    await expect(room.getByRole("button", { name: "Leave the waiting room" })).toBeVisible();
    await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
    // The server agrees.
    const place = (await (await page.request.get(`/api/v1/shows/${showId}/waiting-room`)).json()).place;
    expect(place.state).toBe("before_opening");
  });
});
