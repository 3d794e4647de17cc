-- Cancellation policies and refunds (issue 22).
--
-- A show's policy says whether its bookings can be cancelled, whether some seats of a booking
-- can be cancelled and the rest kept, and what share of the price comes back by how long
-- before the start. The JSON is built and read only by `domain::cancellation::CancellationPolicy`.
-- The default is what Box Office did before policies existed: cancel any time before the
-- start, whole or in part, with a full refund.
ALTER TABLE shows ADD COLUMN cancellation_policy jsonb NOT NULL
    DEFAULT '{"cancellable": true, "partial": true, "tiers": [{"hours_before": 0, "refund_percent": 100}]}';

-- The policy a booking was made under, copied from its show when its seats were held, so that
-- editing the show's policy later never changes what a customer was shown before paying.
-- NULL for bookings made before policies existed: they read as the default above.
ALTER TABLE bookings ADD COLUMN cancellation_policy jsonb;

-- Money given back when seats of a confirmed booking were cancelled (payment is simulated).
-- `paid_cents` is the price of the cancelled seats, `amount_cents` what came back; the show
-- keeps the difference.
CREATE TABLE refunds (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    show_id        bigint      NOT NULL,
    booking_id     bigint      NOT NULL,
    seat_ids       integer[]   NOT NULL CHECK (cardinality(seat_ids) >= 1),
    paid_cents     bigint      NOT NULL CHECK (paid_cents >= 0),
    refund_percent smallint    NOT NULL CHECK (refund_percent BETWEEN 0 AND 100),
    amount_cents   bigint      NOT NULL CHECK (amount_cents BETWEEN 0 AND paid_cents),
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (show_id, booking_id) REFERENCES bookings (show_id, id)
);
CREATE INDEX refunds_by_booking ON refunds (booking_id);
CREATE INDEX refunds_by_show ON refunds (show_id);
