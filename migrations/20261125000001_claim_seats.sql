-- Claiming seats for one order, all or nothing, in one call: the booking service runs it alone
-- or for a batch of orders in one transaction (one commit for many customers under load).
--
-- A seat already taken is refused from a glance without locks (no queue for its lock behind
-- everyone else who wants it). A seat that looks free is locked, in seat-id order, with SKIP
-- LOCKED: a seat some other transaction is claiming right now makes the order "busy" instead of
-- waiting, so two batches in flight never wait for each other or deadlock; the service tries a
-- busy order again once that transaction is over.
--
-- Returns one row: the show's state, what was found, and the booking when one was stored (a
-- FAILED one only when p_record_failure). Nothing is stored when the show is not selling, a
-- seat does not exist, the order is busy, or the idempotency key was taken meanwhile.
CREATE FUNCTION claim_seats(
    p_show_id bigint,
    p_user_id bigint,
    p_seat_ids integer[],
    p_hold_seconds double precision,
    p_idempotency_key text,
    p_book_now boolean,
    p_record_failure boolean,
    p_request text
) RETURNS TABLE (
    show_status show_status,
    selling boolean,
    seats_found bigint,
    all_free boolean,
    busy boolean,
    id bigint,
    status booking_status,
    total_cents bigint,
    hold_expires_at timestamptz,
    created_at timestamptz,
    claimed bigint,
    taken text[],
    labels text[]
) LANGUAGE plpgsql
-- One plan for every call. Left to choose, PostgreSQL re-plans this statement for each order
-- (its estimate for the generic plan looks worse than the custom one), which made a batch of
-- 128 orders take 134 ms instead of 39 (pgbench, 2 cores).
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH show AS (
        SELECT sh.status, (sh.status = 'ON_SALE' AND sh.starts_at > now()) AS selling,
               now() + make_interval(secs => COALESCE(sh.hold_seconds, p_hold_seconds)) AS hold_until
        FROM shows sh WHERE sh.id = p_show_id
    ),
    glance AS (
        SELECT s.seat_id, s.label, s.category,
               (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until < now())) AS free
        FROM seats s
        WHERE s.show_id = p_show_id AND s.seat_id = ANY(p_seat_ids)
          AND EXISTS (SELECT 1 FROM show WHERE show.selling)
    ),
    locked AS (
        SELECT s.seat_id, s.label, s.category,
               (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until < now())) AS free
        FROM seats s
        WHERE s.show_id = p_show_id AND s.seat_id = ANY(p_seat_ids)
          AND EXISTS (SELECT 1 FROM show WHERE show.selling)
          AND NOT EXISTS (SELECT 1 FROM glance WHERE NOT glance.free)
        ORDER BY s.seat_id
        FOR UPDATE SKIP LOCKED
    ),
    -- What decides: the seats as locked, or the glance when it already saw one taken.
    examined AS (
        SELECT * FROM locked
        UNION ALL
        SELECT * FROM glance WHERE EXISTS (SELECT 1 FROM glance g WHERE NOT g.free)
    ),
    verdict AS (
        SELECT (SELECT count(*) FROM glance) AS seats_found,
               coalesce((SELECT bool_and(e.free) FROM examined e), false) AS all_free,
               (NOT EXISTS (SELECT 1 FROM glance g WHERE NOT g.free)
                AND (SELECT count(*) FROM locked) < (SELECT count(*) FROM glance)) AS busy
    ),
    booking AS (
        INSERT INTO bookings (show_id, user_id, status, seat_ids, total_cents, hold_expires_at, idempotency_key, failure, request)
        SELECT p_show_id, p_user_id,
               CASE WHEN NOT v.all_free THEN 'FAILED'
                    WHEN p_book_now THEN 'CONFIRMED'
                    ELSE 'PENDING' END::booking_status,
               p_seat_ids,
               (SELECT coalesce(sum(c.price_cents), 0) FROM examined e
                  JOIN seat_categories c ON c.show_id = p_show_id AND c.code = e.category),
               CASE WHEN v.all_free AND NOT p_book_now THEN sh.hold_until END,
               p_idempotency_key,
               CASE WHEN NOT v.all_free THEN jsonb_build_object('SeatsTaken', jsonb_build_object('seats',
                    (SELECT jsonb_agg(e.label ORDER BY e.seat_id) FROM examined e WHERE NOT e.free))) END,
               p_request
        FROM verdict v, show sh
        WHERE v.seats_found = cardinality(p_seat_ids) AND NOT v.busy AND (v.all_free OR p_record_failure)
        ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING bookings.id, bookings.status, bookings.total_cents, bookings.hold_expires_at, bookings.created_at
    ),
    claimed AS (
        UPDATE seats s
        SET status = CASE WHEN p_book_now THEN 'BOOKED' ELSE 'HELD' END::seat_status,
            booking_id = b.id,
            held_until = b.hold_expires_at
        FROM booking b, locked l
        WHERE b.status <> 'FAILED' AND s.show_id = p_show_id AND s.seat_id = l.seat_id
        RETURNING s.seat_id
    ),
    event AS (
        INSERT INTO booking_events (show_id, booking_id, from_status, to_status, seat_ids)
        SELECT p_show_id, b.id, NULL, b.status, p_seat_ids FROM booking b
    )
    SELECT sh.status, sh.selling,
           v.seats_found, v.all_free, v.busy,
           b.id, b.status, b.total_cents, b.hold_expires_at, b.created_at,
           (SELECT count(*) FROM claimed),
           ARRAY(SELECT e.label FROM examined e WHERE NOT e.free ORDER BY e.seat_id),
           ARRAY(SELECT e.label FROM examined e ORDER BY e.seat_id)
    FROM (SELECT 1) AS one
    LEFT JOIN show sh ON true
    LEFT JOIN verdict v ON true
    LEFT JOIN booking b ON true;
END
$$;
