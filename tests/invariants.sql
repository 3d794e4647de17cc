-- The booking invariants: rules the stored bookings, seats and events obey at every committed
-- instant, however many customers act at once. Each check below is a line
-- `-- invariant: <what must hold>` followed by one SELECT that returns the rows breaking it
-- (none when the rule holds), ending with `;` at the end of a line.
--
-- The integration tests run every check (tests/api/booking_world.rs, `assert_invariants`),
-- also while customers are still booking; scripts can run this file with psql after a run
-- and fail on any row returned.
--
-- A hold is live while its deadline is ahead of the clock. A hold that has run out stays
-- PENDING with its seats HELD until the expiry worker (or a late confirm) stores it EXPIRED,
-- and a later booking may take its seats meanwhile, so the rules say what a live hold owns
-- and what a lapsed one may have lost. They read the clock with clock_timestamp() (the time
-- the row is checked, after the statement's snapshot), so a booking that a snapshot shows
-- taking over a lapsed hold's seat is never judged against a clock older than that booking.

-- invariant: every HELD seat belongs to a PENDING booking and every BOOKED seat to a CONFIRMED one, of the same show
SELECT s.show_id, s.seat_id, s.status::text AS seat_status, b.id AS booking_id, b.status::text AS booking_status
FROM seats s JOIN bookings b ON b.id = s.booking_id
WHERE b.show_id <> s.show_id
   OR (s.status = 'HELD' AND b.status <> 'PENDING')
   OR (s.status = 'BOOKED' AND b.status <> 'CONFIRMED');

-- invariant: AVAILABLE and BLOCKED seats belong to no booking and have no hold deadline
SELECT s.show_id, s.seat_id, s.status::text AS seat_status, s.booking_id, s.held_until
FROM seats s
WHERE s.status IN ('AVAILABLE', 'BLOCKED')
  AND (s.booking_id IS NOT NULL OR s.held_until IS NOT NULL);

-- invariant: a HELD seat is held exactly as long as its booking's hold, or, offered from a waiting list, until the list lets it go
SELECT s.show_id, s.seat_id, s.held_until, b.hold_expires_at
FROM seats s JOIN bookings b ON b.id = s.booking_id
WHERE s.status = 'HELD'
  AND s.held_until IS DISTINCT FROM
      CASE WHEN b.waitlist_entry_id IS NULL THEN b.hold_expires_at ELSE 'infinity'::timestamptz END;

-- invariant: a seat belongs to a booking only if the booking asked for it
SELECT s.show_id, s.seat_id, b.id AS booking_id, b.seat_ids
FROM seats s JOIN bookings b ON b.id = s.booking_id
WHERE NOT (s.seat_id = ANY (b.seat_ids));

-- invariant: FAILED, EXPIRED and CANCELLED bookings own no seats
SELECT b.id AS booking_id, b.status::text AS booking_status, s.seat_id
FROM bookings b JOIN seats s ON s.show_id = b.show_id AND s.booking_id = b.id
WHERE b.status IN ('FAILED', 'EXPIRED', 'CANCELLED');

-- invariant: every CONFIRMED booking owns exactly its seats, all BOOKED
SELECT b.id AS booking_id, b.seat_ids
FROM bookings b
WHERE b.status = 'CONFIRMED'
  AND b.seat_ids IS DISTINCT FROM (
      SELECT array_agg(s.seat_id ORDER BY s.seat_id) FROM seats s
      WHERE s.show_id = b.show_id AND s.booking_id = b.id AND s.status = 'BOOKED');

-- invariant: a live PENDING booking (its hold not yet run out) owns exactly its seats, all HELD
SELECT b.id AS booking_id, b.seat_ids, b.hold_expires_at
FROM bookings b
WHERE b.status = 'PENDING'
  AND b.hold_expires_at > clock_timestamp()
  AND b.seat_ids IS DISTINCT FROM (
      SELECT array_agg(s.seat_id ORDER BY s.seat_id) FROM seats s
      WHERE s.show_id = b.show_id AND s.booking_id = b.id AND s.status = 'HELD');

-- invariant: a seat of a PENDING booking, lapsed or not, is HELD by it unless its hold ran out and a booking made after that took the seat
SELECT b.id AS booking_id, seat.id AS seat_id, b.hold_expires_at, s.status::text AS seat_status, s.booking_id AS owner
FROM bookings b
CROSS JOIN LATERAL unnest(b.seat_ids) AS seat(id)
LEFT JOIN seats s ON s.show_id = b.show_id AND s.seat_id = seat.id
WHERE b.status = 'PENDING'
  AND NOT (s.booking_id IS NOT DISTINCT FROM b.id AND s.status = 'HELD')
  AND NOT (
      b.hold_expires_at <= clock_timestamp()
      AND EXISTS (
          SELECT 1 FROM bookings later
          WHERE later.show_id = b.show_id AND later.id <> b.id AND later.status <> 'FAILED'
            AND seat.id = ANY (later.seat_ids)
            AND later.created_at > b.hold_expires_at));

-- invariant: no seat belongs to two live bookings (CONFIRMED, or PENDING with a live hold)
SELECT b.show_id, seat, count(*) AS bookings
FROM bookings b, unnest(b.seat_ids) AS seat
WHERE b.status = 'CONFIRMED' OR (b.status = 'PENDING' AND b.hold_expires_at > clock_timestamp())
GROUP BY b.show_id, seat
HAVING count(*) > 1;

-- invariant: the last event of every booking is its current status
SELECT b.id AS booking_id, b.status::text AS booking_status
FROM bookings b
WHERE b.status IS DISTINCT FROM (
    SELECT e.to_status FROM booking_events e WHERE e.booking_id = b.id ORDER BY e.id DESC LIMIT 1);

-- invariant: each event starts from the status the previous one ended in (the first from none)
SELECT chain.booking_id, chain.id AS event_id
FROM (
    SELECT e.booking_id, e.id, e.from_status,
           lag(e.to_status) OVER (PARTITION BY e.booking_id ORDER BY e.id) AS previous
    FROM booking_events e) AS chain
WHERE chain.from_status IS DISTINCT FROM chain.previous;

-- invariant: each event is an allowed step: new to PENDING, CONFIRMED or FAILED; PENDING to CONFIRMED, EXPIRED or CANCELLED; CONFIRMED to CANCELLED, or to CONFIRMED when some of its seats were cancelled
SELECT e.booking_id, e.id AS event_id, e.from_status::text AS from_status, e.to_status::text AS to_status
FROM booking_events e
WHERE NOT (
       (e.from_status IS NULL AND e.to_status IN ('PENDING', 'CONFIRMED', 'FAILED'))
    OR (e.from_status = 'PENDING' AND e.to_status IN ('CONFIRMED', 'EXPIRED', 'CANCELLED'))
    OR (e.from_status = 'CONFIRMED' AND e.to_status = 'CANCELLED')
    OR (e.from_status = 'CONFIRMED' AND e.to_status = 'CONFIRMED' AND e.detail IS NOT DISTINCT FROM 'some seats cancelled'));

-- invariant: every event names its booking's show and the seats it had then: its seats now and those cancelled from it later (an event cancelling some seats names those)
SELECT e.booking_id, e.id AS event_id
FROM booking_events e JOIN bookings b ON b.id = e.booking_id
WHERE e.show_id <> b.show_id
   OR (e.from_status IS DISTINCT FROM e.to_status
       AND e.seat_ids IS DISTINCT FROM ARRAY(
           SELECT seat FROM (
               SELECT unnest(b.seat_ids) AS seat
               UNION
               SELECT unnest(later.seat_ids) FROM booking_events later
               WHERE later.booking_id = b.id AND later.id > e.id AND later.from_status = later.to_status
           ) AS had ORDER BY seat));

-- invariant: a refund is for a confirmed booking's seats that it no longer holds (or for a booking cancelled whole), and gives back what its policy share of the price says
SELECT r.id AS refund_id, r.booking_id
FROM refunds r JOIN bookings b ON b.id = r.booking_id
WHERE (b.status <> 'CANCELLED' AND r.seat_ids && b.seat_ids)
   OR b.status NOT IN ('CONFIRMED', 'CANCELLED')
   OR r.amount_cents <> r.paid_cents * r.refund_percent / 100;
