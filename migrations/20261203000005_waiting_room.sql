-- Sale day (issue 19): a show's sale can open at a set moment, and a waiting room in front of
-- it admits customers at a set rate. See `service::waiting_room`.

-- Before this moment nothing of the show can be held or booked (NULL: on sale at once).
ALTER TABLE shows ADD COLUMN sale_opens_at timestamptz;

-- A show's waiting room: while it exists, holds and bookings need a valid pass.
CREATE TABLE waiting_rooms (
    show_id               bigint PRIMARY KEY REFERENCES shows (id),
    admissions_per_minute integer NOT NULL CHECK (admissions_per_minute BETWEEN 1 AND 100000),
    -- How many may be admitted at once after a quiet spell (the token bucket's size).
    burst                 integer NOT NULL CHECK (burst BETWEEN 1 AND 10000),
    pass_seconds          integer NOT NULL CHECK (pass_seconds BETWEEN 60 AND 86400),
    paused                boolean NOT NULL DEFAULT false,
    -- Orders the customers who joined before the opening (secret: places cannot be foreseen).
    shuffle_seed          uuid NOT NULL DEFAULT gen_random_uuid(),
    -- When the early joiners were given their places (the line opened); NULL before.
    opened_at             timestamptz,
    -- The admission allowance (a token bucket) as of `tokens_at`: at most `burst`, growing at
    -- the rate. Whoever admits holds this row's lock, so instances never admit twice.
    tokens                double precision NOT NULL DEFAULT 0,
    tokens_at             timestamptz
);

-- A customer's place in a show's waiting room: one per account per show.
CREATE TABLE waiting_room_places (
    show_id         bigint NOT NULL REFERENCES waiting_rooms (show_id),
    user_id         bigint NOT NULL REFERENCES users (id),
    joined_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Arrival order, for whoever joins after the opening.
    arrival         bigint GENERATED ALWAYS AS IDENTITY,
    -- The order of admission (lower first): a shuffled 1..n for those who joined before the
    -- opening, `LATE_PLACES + arrival` after it; NULL until the opening.
    place           bigint,
    admitted_at     timestamptz,
    pass_expires_at timestamptz,
    PRIMARY KEY (show_id, user_id),
    CHECK ((admitted_at IS NULL) = (pass_expires_at IS NULL)),
    CHECK (admitted_at IS NULL OR place IS NOT NULL)
);
CREATE UNIQUE INDEX waiting_room_places_by_place ON waiting_room_places (show_id, place);
-- The line: who is next.
CREATE INDEX waiting_room_line ON waiting_room_places (show_id, place) WHERE admitted_at IS NULL;
-- Those still without a place (before the opening, or joining as it happened).
CREATE INDEX waiting_room_unplaced ON waiting_room_places (show_id, arrival) WHERE place IS NULL;
