-- The booking engine: users, seat layouts, seats, bookings and their audit trail.
-- Every per-show table carries show_id so the schema can be distributed by show later;
-- users are the only global table.

CREATE TYPE user_role AS ENUM ('CUSTOMER', 'ADMIN');

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    role          user_role   NOT NULL DEFAULT 'CUSTOMER',
    -- argon2id PHC string; NULL for accounts that cannot log in with a password.
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

-- Price bands of one show: Premium rows, Sleeper berths. rank 1 is the best.
CREATE TABLE seat_categories (
    show_id     bigint   NOT NULL REFERENCES shows ON DELETE CASCADE,
    code        text     NOT NULL CHECK (code ~ '^[A-Z0-9_]{1,20}$'),
    name        text     NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 60),
    price_cents bigint   NOT NULL CHECK (price_cents BETWEEN 0 AND 100000000),
    rank        smallint NOT NULL CHECK (rank >= 1),
    PRIMARY KEY (show_id, code),
    UNIQUE (show_id, rank)
);

CREATE TYPE seat_status AS ENUM ('AVAILABLE', 'HELD', 'BOOKED', 'BLOCKED');
CREATE TYPE booking_status AS ENUM ('PENDING', 'CONFIRMED', 'EXPIRED', 'FAILED', 'CANCELLED');

CREATE TABLE bookings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key to shows on purpose: its FOR KEY SHARE check on every new booking would
    -- make the show's row the hot row of a flash sale. Bookings are only created by the
    -- service after it has read the show.
    show_id         bigint         NOT NULL,
    user_id         bigint         NOT NULL REFERENCES users,
    status          booking_status NOT NULL,
    -- The seats this booking asked for (and, once CONFIRMED, owns), in seat-id order.
    seat_ids        integer[]      NOT NULL,
    total_cents     bigint         NOT NULL CHECK (total_cents >= 0),
    hold_expires_at timestamptz,
    idempotency_key text           CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    -- What was asked for with that key, so reusing a key for another request is refused.
    request         text           NOT NULL,
    -- Why a FAILED booking failed, as the app's BookingFailure (JSON).
    failure         jsonb,
    created_at      timestamptz    NOT NULL DEFAULT now(),
    updated_at      timestamptz    NOT NULL DEFAULT now(),
    UNIQUE (show_id, id),
    CHECK ((status = 'PENDING') <= (hold_expires_at IS NOT NULL)),
    CHECK (cardinality(seat_ids) >= 1 OR status = 'FAILED'),
    CHECK ((status = 'FAILED') = (failure IS NOT NULL))
);
-- Replaying a request with the same key finds the first answer instead of booking twice.
CREATE UNIQUE INDEX bookings_idempotency ON bookings (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX bookings_by_user ON bookings (user_id, created_at DESC);
-- The expiry worker's queue: only live holds are indexed.
CREATE INDEX bookings_pending_expiry ON bookings (hold_expires_at) WHERE status = 'PENDING';

-- Every seat of a show is created with the show; seat_id is stable within the show.
CREATE TABLE seats (
    show_id    bigint      NOT NULL REFERENCES shows ON DELETE CASCADE,
    seat_id    integer     NOT NULL CHECK (seat_id >= 1),
    row_label  text        NOT NULL,
    number     integer     NOT NULL CHECK (number >= 1),
    label      text        NOT NULL,
    grid_row   smallint    NOT NULL CHECK (grid_row >= 0),
    grid_col   smallint    NOT NULL CHECK (grid_col >= 0),
    category   text        NOT NULL,
    status     seat_status NOT NULL DEFAULT 'AVAILABLE',
    booking_id bigint,
    held_until timestamptz,
    PRIMARY KEY (show_id, seat_id),
    UNIQUE (show_id, label),
    UNIQUE (show_id, grid_row, grid_col),
    FOREIGN KEY (show_id, category) REFERENCES seat_categories (show_id, code),
    FOREIGN KEY (show_id, booking_id) REFERENCES bookings (show_id, id),
    -- HELD and BOOKED seats belong to a booking; AVAILABLE and BLOCKED seats to none.
    CONSTRAINT seats_booking_matches_status
        CHECK ((status IN ('HELD', 'BOOKED')) = (booking_id IS NOT NULL)),
    CONSTRAINT seats_hold_has_deadline
        CHECK ((status = 'HELD') = (held_until IS NOT NULL))
);
CREATE INDEX seats_by_booking ON seats (booking_id) WHERE booking_id IS NOT NULL;
-- Lets the storefront count free seats per show from the index alone.
CREATE INDEX seats_show_status ON seats (show_id) INCLUDE (status, held_until);

-- Append-only audit trail: one row per booking state change.
CREATE TABLE booking_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    show_id     bigint         NOT NULL,
    booking_id  bigint         NOT NULL,
    from_status booking_status,
    to_status   booking_status NOT NULL,
    seat_ids    integer[]      NOT NULL,
    detail      text,
    at          timestamptz    NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (show_id, booking_id) REFERENCES bookings (show_id, id)
);
CREATE INDEX booking_events_by_booking ON booking_events (booking_id, id);

CREATE FUNCTION booking_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'booking_events is append-only';
END $$;
CREATE TRIGGER booking_events_no_rewrite BEFORE UPDATE OR DELETE ON booking_events
    FOR EACH ROW EXECUTE FUNCTION booking_events_append_only();
