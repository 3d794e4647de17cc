-- The waiting list of a sold-out show (issue 22). Customers wait in the order they joined
-- (`id`); seats that come back are held for the first one whose party fits, as a PENDING
-- booking of theirs (an offer) whose seats are HELD with `held_until = 'infinity'`, so the
-- claim statement never takes them; `bookings.hold_expires_at` is the offer's real deadline.
--
-- WAITING  -> OFFERED (seats held for them) -> BOOKED (they confirmed the offer's booking)
--                                           -> DECLINED (they declined or cancelled it)
--                                           -> LAPSED (the offer ran out)
-- WAITING or OFFERED -> LEFT (they left the list; an outstanding offer is declined first)
-- WAITING or OFFERED -> CLOSED (an admin cancelled the show)
CREATE TYPE waitlist_status AS ENUM ('WAITING', 'OFFERED', 'BOOKED', 'DECLINED', 'LAPSED', 'LEFT', 'CLOSED');

CREATE TABLE waitlist_entries (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    show_id    bigint          NOT NULL REFERENCES shows ON DELETE CASCADE,
    user_id    bigint          NOT NULL REFERENCES users,
    party_size smallint        NOT NULL CHECK (party_size BETWEEN 1 AND 100),
    -- Only seats of this category, when given.
    category   text,
    status     waitlist_status NOT NULL DEFAULT 'WAITING',
    -- The offer's booking (the latest one), once there is one.
    booking_id bigint,
    created_at timestamptz     NOT NULL DEFAULT now(),
    updated_at timestamptz     NOT NULL DEFAULT now(),
    UNIQUE (show_id, id),
    FOREIGN KEY (show_id, category) REFERENCES seat_categories (show_id, code),
    FOREIGN KEY (show_id, booking_id) REFERENCES bookings (show_id, id),
    CONSTRAINT waitlist_offer_has_booking CHECK (status <> 'OFFERED' OR booking_id IS NOT NULL)
);
-- One live entry per customer and show: joining twice is refused.
CREATE UNIQUE INDEX waitlist_one_live_entry ON waitlist_entries (show_id, user_id)
    WHERE status IN ('WAITING', 'OFFERED');
-- The queue of a show, in join order.
CREATE INDEX waitlist_queue ON waitlist_entries (show_id, id) WHERE status = 'WAITING';
CREATE INDEX waitlist_by_user ON waitlist_entries (user_id, show_id, id DESC);

-- The entry an offer booking was made for. No foreign key on purpose: bookings are written by
-- the claim statement of every flash sale, and this column is NULL for all of them; the
-- reference is enforced the other way (`waitlist_entries.booking_id`).
ALTER TABLE bookings ADD COLUMN waitlist_entry_id bigint;

-- An entry's status follows its offer booking, whoever changes the booking: the customer
-- confirming at checkout (BOOKED), cancelling the hold (DECLINED), the expiry worker or a
-- late confirm (LAPSED), an admin cancelling the show (DECLINED or LAPSED). A trigger keeps
-- this in one place, so none of those code paths (confirm, cancel, expiry, show cancel) has to
-- know about waiting lists; its WHEN clause only looks at the new row, so the bookings of a
-- flash sale (no waitlist entry) pay for nothing but that test.
CREATE FUNCTION waitlist_follow_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE waitlist_entries e
    SET status = CASE NEW.status
                     WHEN 'CONFIRMED' THEN 'BOOKED'
                     WHEN 'EXPIRED' THEN 'LAPSED'
                     ELSE 'DECLINED'
                 END::waitlist_status,
        updated_at = now()
    WHERE e.show_id = NEW.show_id AND e.id = NEW.waitlist_entry_id AND e.booking_id = NEW.id
      AND e.status = 'OFFERED' AND NEW.status IN ('CONFIRMED', 'EXPIRED', 'CANCELLED');
    RETURN NULL;
END $$;
CREATE TRIGGER waitlist_follows_booking AFTER UPDATE OF status ON bookings
    FOR EACH ROW
    WHEN (NEW.waitlist_entry_id IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION waitlist_follow_booking();
