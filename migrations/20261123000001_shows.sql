-- Shows and trips: anything with numbered seats that starts at a known time.
CREATE TYPE show_kind AS ENUM ('SHOW', 'TRIP');
CREATE TYPE show_status AS ENUM ('ON_SALE', 'CANCELLED');

CREATE TABLE shows (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         show_kind   NOT NULL,
    title        text        NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    venue        text        CHECK (length(btrim(venue)) BETWEEN 1 AND 200),
    origin       text        CHECK (length(btrim(origin)) BETWEEN 1 AND 200),
    destination  text        CHECK (length(btrim(destination)) BETWEEN 1 AND 200),
    starts_at    timestamptz NOT NULL,
    -- How long a hold lasts for this show; NULL means the server's default.
    hold_seconds integer     CHECK (hold_seconds BETWEEN 10 AND 3600),
    status       show_status NOT NULL DEFAULT 'ON_SALE',
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- A show happens at a venue; a trip goes from an origin to a destination.
    CONSTRAINT shows_place CHECK (
        (kind = 'SHOW' AND venue IS NOT NULL)
        OR (kind = 'TRIP' AND origin IS NOT NULL AND destination IS NOT NULL)
    )
);

-- The storefront lists what is on sale and still to come, soonest first.
CREATE INDEX shows_on_sale_by_start ON shows (starts_at) WHERE status = 'ON_SALE';
