-- Limits against hoarding (issue 14): a cap on the seats one customer holds on one show, and
-- an audit of refusals that a loop of requests cannot grow without bound.

-- The claim statement counts a customer's live holds on a show for the cap: pending bookings
-- are few at any time, so this index stays small.
CREATE INDEX bookings_live_holds ON bookings (user_id, show_id) WHERE status = 'PENDING';

-- Every refusal (seats taken, not enough seats, past the held-seat cap), counted per customer,
-- show and minute: one row a minute however many requests a loop sends. Only the first few
-- refusals of a minute are also kept as FAILED bookings (so their idempotency keys replay).
CREATE TABLE booking_refusals (
    show_id   bigint      NOT NULL,
    user_id   bigint      NOT NULL REFERENCES users,
    minute    timestamptz NOT NULL,
    refusals  integer     NOT NULL CHECK (refusals >= 1),
    PRIMARY KEY (show_id, user_id, minute)
);
CREATE INDEX booking_refusals_by_minute ON booking_refusals (minute);

-- Counts `refusals` more refusals for this customer and show in the current minute and says
-- how many were counted before them this minute. Safe under concurrency: the upsert waits for
-- a concurrent one and adds to its result.
CREATE FUNCTION count_refusals(refused_show bigint, refused_user bigint, refusals integer) RETURNS integer
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO booking_refusals AS r (show_id, user_id, minute, refusals)
    VALUES (refused_show, refused_user, date_trunc('minute', now()), refusals)
    ON CONFLICT (show_id, user_id, minute) DO UPDATE SET refusals = r.refusals + EXCLUDED.refusals
    RETURNING r.refusals - count_refusals.refusals
$$;
