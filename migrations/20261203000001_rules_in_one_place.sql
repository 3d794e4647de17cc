-- Rules that several statements share, each written once in SQL. Both are plain SQL
-- functions of one expression, which PostgreSQL inlines into the statements that call them.

-- "Still on sale": the SQL twin of `domain::show::selling` (an integration test checks that
-- the two agree).
CREATE FUNCTION show_is_selling(status show_status, starts_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT status = 'ON_SALE' AND starts_at > now() $$;

-- Why a booking could not get its seats, as `domain::BookingFailure` reads it from
-- `bookings.failure`: the taken seats' labels, or (with no labels) how many seats were asked
-- for and how many were left. The only place that builds this JSON.
CREATE FUNCTION booking_failure_json(taken_seats text[], requested integer, available integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN taken_seats IS NOT NULL
            THEN jsonb_build_object('SeatsTaken', jsonb_build_object('seats', to_jsonb(taken_seats)))
        ELSE jsonb_build_object('NotEnoughSeats', jsonb_build_object('requested', requested, 'available', available))
    END
$$;
