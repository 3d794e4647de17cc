//! Integration tests: the real app on port 0, talking HTTP, each test on a fresh database.
//! One binary with many modules, so it links once.

mod accounts;
mod admin;
mod booking;
mod booking_world;
mod cli;
mod customer;
mod embedded_postgres;
mod health;
mod helpers;
mod pages;
mod rest;
mod rest_bookings;
mod sessions;
