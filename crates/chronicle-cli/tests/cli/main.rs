//! The `chronicle` binary's tests: the HTTP API through a real server and client on both
//! backends (`http`), the built binary's commands (`commands`), hostile input (`fuzz`), and the
//! OpenAPI document (`openapi`).

mod commands;
mod fuzz;
mod hardening;
mod http;
mod openapi;
mod seeding;
mod support;

use chronicle_testing::on_both_backends;

on_both_backends!(
    api, http:
    seed_endpoints_answer_in_the_seeds_shapes,
    missing_user_header_is_401,
    malformed_identities_are_400_naming_the_header,
    malformed_and_invalid_requests_are_400_naming_the_field,
    schema_and_registry_refusals_are_422,
    access_refusals_are_403_and_identical_for_unknown_practices,
    conflicts_are_409_with_the_current_version,
    bodies_over_the_limit_are_413,
    unknown_routes_and_methods_answer_in_the_error_shape,
    batch_append_is_all_or_nothing,
    timeline_aggregates_practices_and_event_by_id,
    registry_verify_and_health,
    live_stream_delivers_new_events_and_resumes_after_last_event_id,
    projector_status_reset_retry_and_live_updates,
    read_model_endpoints_answer_from_the_projections,
    the_web_console_is_served_beside_the_api,
    removals_recorders_and_skips_answer_over_http,
    exports_download_and_verify_over_http,
);

on_both_backends!(
    seed_data, seeding:
    dry_run_routes_answer_the_would_be_events_and_write_nothing,
    generate_writes_counted_valid_events_and_refuses_by_field,
    seed_with_a_practice_generates_from_the_schemas_and_repeats_for_a_seed,
);

on_both_backends!(
    guarded, hardening:
    another_host_or_a_foreign_page_is_refused,
    a_gateways_host_name_is_served_when_allowed,
    control_characters_in_a_payload_are_400_with_the_pointer,
    live_streams_are_capped_per_user_and_in_total,
    a_flood_by_one_caller_leaves_room_for_others,
);

on_both_backends!(
    cli, commands:
    a_graceful_stop_under_load_keeps_every_acknowledged_append,
    an_abrupt_kill_is_told_apart_from_a_graceful_stop,
    append_prints_stored_events_and_events_reads_them,
    a_bad_line_names_its_number_and_writes_nothing,
    seed_writes_deterministic_demo_data,
    projectors_commands_run_report_reset_and_retry,
    a_runner_killed_mid_batch_resumes_without_repeating_or_skipping,
);
