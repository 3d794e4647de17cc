//! Integration tests: the real app on port 0, talking HTTP, each test on a fresh database.
//! One binary with many modules, so it links once.

mod accounts;
mod admin;
mod architecture;
mod booking;
mod booking_world;
mod cli;
mod csrf;
mod customer;
mod distributable_schema;
mod embedded_postgres;
mod freezer;
mod health;
mod hardening;
mod hoarding;
mod helpers;
mod live_feed;
mod login_limits;
mod metrics;
mod outage;
mod pages;
mod parity;
mod races;
mod read_routing;
mod refunds;
mod rest;
mod rest_bookings;
mod rules_in_sql;
mod session_trust;
mod sessions;
mod trusted_proxies;
mod waiting_room;
mod waitlist;
mod wire;
