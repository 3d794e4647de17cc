-- What scripts/chaos.sh checks after each fault, besides tests/invariants.sql: the database
-- against what the crowd's clients were answered. chaos.sh loads every answer the load
-- generator logged (`boxoffice bench --answers-log`) into chaos_answers first:
--   booking_id bigint, status text ('HELD' or 'CONFIRMED'), at timestamptz, show_id bigint,
--   seats int[] (sorted). A stored booking must match its answer's show and seats, not only
--   its id: after a crash loses a commit, its booking ids are given out again.
-- Same format as tests/invariants.sql: each check returns the rows that break it.

-- invariant: every booking a client was answered as confirmed is stored confirmed, for that show and those seats
SELECT a.booking_id, b.status::text AS stored_status, a.seats AS answered_seats, b.seat_ids AS stored_seats
FROM chaos_answers a LEFT JOIN bookings b ON b.id = a.booking_id
WHERE a.status = 'CONFIRMED'
  AND (b.status IS DISTINCT FROM 'CONFIRMED' OR b.show_id <> a.show_id
       OR a.seats <> (SELECT array_agg(seat ORDER BY seat) FROM unnest(b.seat_ids) AS seat));

-- invariant: every booking a client was answered as held is stored, for that show and those seats, held, confirmed or (its hold run out) expired
SELECT a.booking_id, b.status::text AS stored_status, a.seats AS answered_seats, b.seat_ids AS stored_seats
FROM chaos_answers a LEFT JOIN bookings b ON b.id = a.booking_id
WHERE a.status = 'HELD'
  AND (b.status IS NULL OR b.status NOT IN ('PENDING', 'CONFIRMED', 'EXPIRED')
       OR b.show_id <> a.show_id
       OR a.seats <> (SELECT array_agg(seat ORDER BY seat) FROM unnest(b.seat_ids) AS seat));

-- invariant: no seat is in two live bookings (confirmed, or held and not yet run out)
SELECT b.show_id, seat_id, array_agg(b.id) AS bookings
FROM bookings b, unnest(b.seat_ids) AS seat_id
WHERE b.status = 'CONFIRMED' OR (b.status = 'PENDING' AND b.hold_expires_at > clock_timestamp())
GROUP BY b.show_id, seat_id
HAVING count(*) > 1;

-- invariant: no seat is still held well after its hold ran out (the expiry worker kept working)
SELECT s.show_id, s.seat_id, s.booking_id, s.held_until
FROM seats s
WHERE s.status = 'HELD' AND s.held_until < clock_timestamp() - interval '10 seconds';
