-- Claims seats for a batch of orders (or a batch of one), set-based: each step runs once for
-- the whole batch. See `CLAIM_SQL` in claims/mod.rs for the parameters and the rules.
WITH orders AS (
    SELECT o.*, (sum(o.seat_count) OVER (ORDER BY o.n) - o.seat_count + 1)::int AS first_seat
    FROM unnest($1::bigint[], $2::bigint[], $4::int[], $5::float8[], $6::text[], $7::bool[], $8::bool[], $9::text[],
                $10::int[], $11::bool[])
         WITH ORDINALITY AS o(show_id, user_id, seat_count, hold_seconds, idempotency_key, book_now, record_failure, request,
                              hold_cap, deciding, n)
),
-- A capped hold is decided only by the transaction that has the customer's turn on the show
-- (`deciding`), and only by the first such order of this batch: the others wait (are busy),
-- so no two decisions about one customer's holds can both count the same seats as free.
waits_turn AS (
    SELECT o.n FROM orders o
    WHERE o.hold_cap IS NOT NULL
      AND (NOT o.deciding OR EXISTS (SELECT 1 FROM orders earlier
                                     WHERE earlier.hold_cap IS NOT NULL AND earlier.n < o.n
                                       AND earlier.user_id = o.user_id AND earlier.show_id = o.show_id))
),
-- Seats each deciding customer holds on the show now (live holds only), and when the first of
-- those holds lapses.
held AS (
    SELECT o.n, coalesce(sum(cardinality(b.seat_ids)), 0)::int AS seats, min(b.hold_expires_at) AS first_lapse
    FROM orders o
    LEFT JOIN bookings b ON b.user_id = o.user_id AND b.show_id = o.show_id
                        AND b.status = 'PENDING' AND b.hold_expires_at > now()
    WHERE o.hold_cap IS NOT NULL AND o.n NOT IN (SELECT n FROM waits_turn)
    GROUP BY o.n
),
wanted AS (
    SELECT o.n, o.show_id, w.seat_id
    FROM orders o, unnest(($3::int[])[o.first_seat : o.first_seat + o.seat_count - 1]) AS w(seat_id)
),
show AS (
    SELECT sh.id AS show_id, sh.status, show_is_selling(sh.status, sh.starts_at) AS selling,
           sh.hold_seconds, sh.cancellation_policy,
           -- Someone on the waiting list: a lapsed hold's seats are theirs first, handed over by
           -- the expiry worker, not free to whoever claims before it runs.
           EXISTS (SELECT 1 FROM waitlist_entries e WHERE e.show_id = sh.id AND e.status = 'WAITING') AS waited_for,
           (sh.sale_opens_at IS NULL OR sh.sale_opens_at <= now()) AS sale_open, sh.sale_opens_at,
           EXISTS (SELECT 1 FROM waiting_rooms r WHERE r.show_id = sh.id) AS behind_waiting_room
    FROM shows sh WHERE sh.id IN (SELECT show_id FROM orders)
),
-- Nothing is claimed before the sale opens, and behind a waiting room only by a customer whose
-- pass for this show is valid now (a hold made with one is confirmed without it).
gate AS (
    SELECT o.n, sh.sale_open,
           (NOT sh.behind_waiting_room
            OR EXISTS (SELECT 1 FROM waiting_room_places p
                       WHERE p.show_id = o.show_id AND p.user_id = o.user_id AND p.pass_expires_at > now())) AS admitted
    FROM orders o JOIN show sh ON sh.show_id = o.show_id
),
glance AS (
    SELECT w.n, s.seat_id, s.label, s.category,
           (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until < now() AND NOT sh.waited_for)) AS free
    FROM wanted w
    JOIN show sh ON sh.show_id = w.show_id AND sh.selling
    JOIN gate gt ON gt.n = w.n AND gt.sale_open AND gt.admitted
    JOIN seats s ON s.show_id = w.show_id AND s.seat_id = w.seat_id
),
seen AS (
    SELECT o.n, count(g.seat_id) AS seats_found, coalesce(bool_and(g.free), false) AS all_free,
           coalesce(array_agg(g.label ORDER BY g.seat_id) FILTER (WHERE g.seat_id IS NOT NULL), '{}') AS labels,
           coalesce(array_agg(g.label ORDER BY g.seat_id) FILTER (WHERE NOT g.free), '{}') AS taken,
           coalesce(array_agg(g.seat_id ORDER BY g.seat_id) FILTER (WHERE NOT g.free), '{}') AS taken_ids,
           coalesce(sum(c.price_cents), 0)::bigint AS total_cents
    FROM orders o
    LEFT JOIN glance g ON g.n = o.n
    LEFT JOIN seat_categories c ON c.show_id = o.show_id AND c.code = g.category
    GROUP BY o.n
),
-- Past the cap: refused before any seat is locked.
capped AS (
    SELECT o.n FROM orders o JOIN seen v ON v.n = o.n JOIN held h ON h.n = o.n
    WHERE v.seats_found = o.seat_count AND h.seats + o.seat_count > o.hold_cap
),
candidate AS (
    SELECT o.n FROM orders o JOIN seen v ON v.n = o.n
    WHERE v.seats_found = o.seat_count AND v.all_free
      AND o.n NOT IN (SELECT n FROM waits_turn UNION ALL SELECT n FROM capped)
),
contested AS (
    SELECT DISTINCT later.n
    FROM wanted later
    JOIN candidate cl ON cl.n = later.n
    JOIN wanted earlier ON earlier.show_id = later.show_id AND earlier.seat_id = later.seat_id
                       AND earlier.n < later.n
    JOIN candidate ce ON ce.n = earlier.n
),
locked AS (
    SELECT w.n, s.show_id, s.seat_id,
           (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until < now() AND NOT sh.waited_for)) AS free
    FROM seats s
    JOIN wanted w ON s.show_id = w.show_id AND s.seat_id = w.seat_id
    JOIN show sh ON sh.show_id = s.show_id
    WHERE w.n IN (SELECT n FROM candidate EXCEPT SELECT n FROM contested)
    ORDER BY s.show_id, s.seat_id
    FOR UPDATE OF s SKIP LOCKED
),
settled AS (
    SELECT l.n, count(*) AS seats_locked, bool_and(l.free) AS still_free FROM locked l GROUP BY l.n
),
verdict AS (
    SELECT o.n, v.seats_found,
           (v.seats_found = o.seat_count AND NOT v.all_free
            AND o.n NOT IN (SELECT n FROM waits_turn UNION ALL SELECT n FROM capped)) AS refused,
           o.n IN (SELECT n FROM capped) AS capped,
           coalesce(st.seats_locked = o.seat_count AND st.still_free, false) AS wins,
           ((v.seats_found = o.seat_count AND o.n IN (SELECT n FROM waits_turn))
            OR (o.n IN (SELECT n FROM candidate)
                AND NOT coalesce(st.seats_locked = o.seat_count AND st.still_free, false))) AS busy
    FROM orders o JOIN seen v ON v.n = o.n LEFT JOIN settled st ON st.n = o.n
),
-- Refusals are counted per customer, show and minute (`count_refusals`); only the first $12
-- of a minute are kept as FAILED bookings, so a loop of refused requests cannot grow the
-- tables without bound.
refusal AS (
    SELECT o.n, o.show_id, o.user_id, v.capped,
           row_number() OVER (PARTITION BY o.show_id, o.user_id ORDER BY o.n) AS nth
    FROM orders o JOIN verdict v ON v.n = o.n
    WHERE (v.refused AND o.record_failure) OR v.capped
),
counted AS (
    SELECT r.show_id, r.user_id, count_refusals(r.show_id, r.user_id, count(*)::int) AS earlier
    FROM refusal r GROUP BY r.show_id, r.user_id
),
recorded AS (
    SELECT r.n FROM refusal r JOIN counted c ON c.show_id = r.show_id AND c.user_id = r.user_id
    WHERE NOT r.capped AND c.earlier + r.nth <= $12
),
-- Booking ids drawn here, so that each stored booking maps back to its order.
stored AS (
    SELECT o.n, nextval(pg_get_serial_sequence('bookings', 'id')) AS id, v.wins
    FROM orders o JOIN verdict v ON v.n = o.n
    WHERE v.wins OR o.n IN (SELECT n FROM recorded)
),
booking AS (
    INSERT INTO bookings (id, show_id, user_id, status, seat_ids, total_cents, hold_expires_at, idempotency_key, failure, request,
                          cancellation_policy)
    OVERRIDING SYSTEM VALUE
    SELECT st.id, o.show_id, o.user_id,
           CASE WHEN NOT st.wins THEN 'FAILED'
                WHEN o.book_now THEN 'CONFIRMED'
                ELSE 'PENDING' END::booking_status,
           ($3::int[])[o.first_seat : o.first_seat + o.seat_count - 1],
           v.total_cents,
           CASE WHEN st.wins AND NOT o.book_now
                THEN now() + make_interval(secs => COALESCE(sh.hold_seconds, o.hold_seconds)) END,
           o.idempotency_key,
           CASE WHEN NOT st.wins THEN booking_failure_json(v.taken, NULL, NULL) END,
           o.request,
           CASE WHEN st.wins THEN sh.cancellation_policy END
    FROM stored st
    JOIN orders o ON o.n = st.n
    JOIN seen v ON v.n = st.n
    JOIN show sh ON sh.show_id = o.show_id
    ORDER BY st.n
    ON CONFLICT (show_id, user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, show_id, status, seat_ids, total_cents, hold_expires_at, created_at, cancellation_policy
),
claimed AS (
    UPDATE seats s
    SET status = CASE WHEN b.status = 'CONFIRMED' THEN 'BOOKED' ELSE 'HELD' END::seat_status,
        booking_id = b.id,
        held_until = b.hold_expires_at
    FROM booking b
    JOIN stored st ON st.id = b.id
    JOIN locked l ON l.n = st.n
    WHERE b.status <> 'FAILED' AND s.show_id = l.show_id AND s.seat_id = l.seat_id
    RETURNING st.n
),
event AS (
    INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids)
    SELECT b.show_id, b.id, NULL, b.status, b.seat_ids FROM booking b
),
claimed_per_order AS (
    SELECT c.n, count(*) AS seats FROM claimed c GROUP BY c.n
)
SELECT sh.status AS show_status, sh.selling, gt.sale_open, sh.sale_opens_at, gt.admitted, v.seats_found, v.busy, v.capped,
       h.seats AS held, ceil(extract(epoch FROM h.first_lapse - now()))::bigint AS first_lapse_in,
       b.id, b.status, b.total_cents, b.hold_expires_at, b.created_at, b.cancellation_policy,
       coalesce(cl.seats, 0) AS claimed, st.id IS NOT NULL AS meant_to_store,
       seen.taken, seen.taken_ids, seen.labels,
       pg_current_xact_id()::text AS transaction
FROM orders o
JOIN seen ON seen.n = o.n
JOIN verdict v ON v.n = o.n
LEFT JOIN show sh ON sh.show_id = o.show_id
LEFT JOIN gate gt ON gt.n = o.n
LEFT JOIN stored st ON st.n = o.n
LEFT JOIN booking b ON b.id = st.id
LEFT JOIN claimed_per_order cl ON cl.n = o.n
LEFT JOIN held h ON h.n = o.n
ORDER BY o.n
