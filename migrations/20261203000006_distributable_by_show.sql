-- Distributable by show (issue 17, docs/OPERATIONS.md "Sharding by show"): on Citus every
-- per-show table is distributed on show_id, and a shard can only enforce a key that includes
-- it. tests/api/distributable_schema.rs checks the rules on the catalog.
--
-- Every per-show table already carries show_id (NOT NULL), and foreign keys between them are
-- already (show_id, x); what remains are the keys on a bare id. The ids stay first in the
-- keys: lookups by id alone use the same index as before, and inserts still append at the
-- index's right edge (no extra work for the claim statement). The (show_id, id) unique
-- constraints of bookings and waitlist_entries stay: foreign keys and a show's scans use them.
ALTER TABLE bookings DROP CONSTRAINT bookings_pkey, ADD PRIMARY KEY (id, show_id);
ALTER TABLE booking_events DROP CONSTRAINT booking_events_pkey, ADD PRIMARY KEY (id, show_id);
ALTER TABLE refunds DROP CONSTRAINT refunds_pkey, ADD PRIMARY KEY (id, show_id);
ALTER TABLE waitlist_entries DROP CONSTRAINT waitlist_entries_pkey, ADD PRIMARY KEY (id, show_id);

-- An idempotency key now names one checkout of one show: the key is unique per customer and
-- show (the browser makes one per checkout, REST clients send it on a show's URL). Reusing a
-- key on another show makes a booking there instead of being refused; reusing it on the same
-- show for a different request is still refused.
DROP INDEX bookings_idempotency;
CREATE UNIQUE INDEX bookings_idempotency ON bookings (show_id, user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
