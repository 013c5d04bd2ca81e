-- One text form for every timestamp on SQLite: RFC 3339 in UTC with exactly six fractional
-- digits (`2026-12-03T09:22:21.123456+00:00`, 32 characters), the form the store binds from Rust.
-- Before, column defaults wrote milliseconds and chrono wrote 0, 3, 6 or 9 digits, and the two
-- were compared as text. Fixed width makes text order time order. Version 0005 exists in
-- migrations/postgres with the same meaning (nothing to do there: timestamptz).

update settings set updated_at = case length(updated_at)
    when 25 then substr(updated_at, 1, 19) || '.000000+00:00'
    when 29 then substr(updated_at, 1, 23) || '000+00:00'
    when 35 then substr(updated_at, 1, 26) || '+00:00'
    else updated_at end
where updated_at is not null and length(updated_at) <> 32;
update schools set created_at = case length(created_at)
    when 25 then substr(created_at, 1, 19) || '.000000+00:00'
    when 29 then substr(created_at, 1, 23) || '000+00:00'
    when 35 then substr(created_at, 1, 26) || '+00:00'
    else created_at end
where created_at is not null and length(created_at) <> 32;
update areas set created_at = case length(created_at)
    when 25 then substr(created_at, 1, 19) || '.000000+00:00'
    when 29 then substr(created_at, 1, 23) || '000+00:00'
    when 35 then substr(created_at, 1, 26) || '+00:00'
    else created_at end
where created_at is not null and length(created_at) <> 32;
update students set created_at = case length(created_at)
    when 25 then substr(created_at, 1, 19) || '.000000+00:00'
    when 29 then substr(created_at, 1, 23) || '000+00:00'
    when 35 then substr(created_at, 1, 26) || '+00:00'
    else created_at end
where created_at is not null and length(created_at) <> 32;
update students set updated_at = case length(updated_at)
    when 25 then substr(updated_at, 1, 19) || '.000000+00:00'
    when 29 then substr(updated_at, 1, 23) || '000+00:00'
    when 35 then substr(updated_at, 1, 26) || '+00:00'
    else updated_at end
where updated_at is not null and length(updated_at) <> 32;
update devices set first_seen_at = case length(first_seen_at)
    when 25 then substr(first_seen_at, 1, 19) || '.000000+00:00'
    when 29 then substr(first_seen_at, 1, 23) || '000+00:00'
    when 35 then substr(first_seen_at, 1, 26) || '+00:00'
    else first_seen_at end
where first_seen_at is not null and length(first_seen_at) <> 32;
update devices set last_seen_at = case length(last_seen_at)
    when 25 then substr(last_seen_at, 1, 19) || '.000000+00:00'
    when 29 then substr(last_seen_at, 1, 23) || '000+00:00'
    when 35 then substr(last_seen_at, 1, 26) || '+00:00'
    else last_seen_at end
where last_seen_at is not null and length(last_seen_at) <> 32;
update devices set approved_at = case length(approved_at)
    when 25 then substr(approved_at, 1, 19) || '.000000+00:00'
    when 29 then substr(approved_at, 1, 23) || '000+00:00'
    when 35 then substr(approved_at, 1, 26) || '+00:00'
    else approved_at end
where approved_at is not null and length(approved_at) <> 32;
update device_messages set received_at = case length(received_at)
    when 25 then substr(received_at, 1, 19) || '.000000+00:00'
    when 29 then substr(received_at, 1, 23) || '000+00:00'
    when 35 then substr(received_at, 1, 26) || '+00:00'
    else received_at end
where received_at is not null and length(received_at) <> 32;
update rejected_lines set created_at = case length(created_at)
    when 25 then substr(created_at, 1, 19) || '.000000+00:00'
    when 29 then substr(created_at, 1, 23) || '000+00:00'
    when 35 then substr(created_at, 1, 26) || '+00:00'
    else created_at end
where created_at is not null and length(created_at) <> 32;
update attendance_logs set punched_at = case length(punched_at)
    when 25 then substr(punched_at, 1, 19) || '.000000+00:00'
    when 29 then substr(punched_at, 1, 23) || '000+00:00'
    when 35 then substr(punched_at, 1, 26) || '+00:00'
    else punched_at end
where punched_at is not null and length(punched_at) <> 32;
update attendance_logs set received_at = case length(received_at)
    when 25 then substr(received_at, 1, 19) || '.000000+00:00'
    when 29 then substr(received_at, 1, 23) || '000+00:00'
    when 35 then substr(received_at, 1, 26) || '+00:00'
    else received_at end
where received_at is not null and length(received_at) <> 32;
update device_users set reported_at = case length(reported_at)
    when 25 then substr(reported_at, 1, 19) || '.000000+00:00'
    when 29 then substr(reported_at, 1, 23) || '000+00:00'
    when 35 then substr(reported_at, 1, 26) || '+00:00'
    else reported_at end
where reported_at is not null and length(reported_at) <> 32;
update biometric_templates set reported_at = case length(reported_at)
    when 25 then substr(reported_at, 1, 19) || '.000000+00:00'
    when 29 then substr(reported_at, 1, 23) || '000+00:00'
    when 35 then substr(reported_at, 1, 26) || '+00:00'
    else reported_at end
where reported_at is not null and length(reported_at) <> 32;
update device_photos set reported_at = case length(reported_at)
    when 25 then substr(reported_at, 1, 19) || '.000000+00:00'
    when 29 then substr(reported_at, 1, 23) || '000+00:00'
    when 35 then substr(reported_at, 1, 26) || '+00:00'
    else reported_at end
where reported_at is not null and length(reported_at) <> 32;
update device_events set received_at = case length(received_at)
    when 25 then substr(received_at, 1, 19) || '.000000+00:00'
    when 29 then substr(received_at, 1, 23) || '000+00:00'
    when 35 then substr(received_at, 1, 26) || '+00:00'
    else received_at end
where received_at is not null and length(received_at) <> 32;
update admin_users set created_at = case length(created_at)
    when 25 then substr(created_at, 1, 19) || '.000000+00:00'
    when 29 then substr(created_at, 1, 23) || '000+00:00'
    when 35 then substr(created_at, 1, 26) || '+00:00'
    else created_at end
where created_at is not null and length(created_at) <> 32;
update admin_users set updated_at = case length(updated_at)
    when 25 then substr(updated_at, 1, 19) || '.000000+00:00'
    when 29 then substr(updated_at, 1, 23) || '000+00:00'
    when 35 then substr(updated_at, 1, 26) || '+00:00'
    else updated_at end
where updated_at is not null and length(updated_at) <> 32;
update admin_users set last_login_at = case length(last_login_at)
    when 25 then substr(last_login_at, 1, 19) || '.000000+00:00'
    when 29 then substr(last_login_at, 1, 23) || '000+00:00'
    when 35 then substr(last_login_at, 1, 26) || '+00:00'
    else last_login_at end
where last_login_at is not null and length(last_login_at) <> 32;
update refresh_tokens set created_at = case length(created_at)
    when 25 then substr(created_at, 1, 19) || '.000000+00:00'
    when 29 then substr(created_at, 1, 23) || '000+00:00'
    when 35 then substr(created_at, 1, 26) || '+00:00'
    else created_at end
where created_at is not null and length(created_at) <> 32;
update refresh_tokens set expires_at = case length(expires_at)
    when 25 then substr(expires_at, 1, 19) || '.000000+00:00'
    when 29 then substr(expires_at, 1, 23) || '000+00:00'
    when 35 then substr(expires_at, 1, 26) || '+00:00'
    else expires_at end
where expires_at is not null and length(expires_at) <> 32;
update refresh_tokens set revoked_at = case length(revoked_at)
    when 25 then substr(revoked_at, 1, 19) || '.000000+00:00'
    when 29 then substr(revoked_at, 1, 23) || '000+00:00'
    when 35 then substr(revoked_at, 1, 26) || '+00:00'
    else revoked_at end
where revoked_at is not null and length(revoked_at) <> 32;
update job_executions set started_at = case length(started_at)
    when 25 then substr(started_at, 1, 19) || '.000000+00:00'
    when 29 then substr(started_at, 1, 23) || '000+00:00'
    when 35 then substr(started_at, 1, 26) || '+00:00'
    else started_at end
where started_at is not null and length(started_at) <> 32;
update job_executions set finished_at = case length(finished_at)
    when 25 then substr(finished_at, 1, 19) || '.000000+00:00'
    when 29 then substr(finished_at, 1, 23) || '000+00:00'
    when 35 then substr(finished_at, 1, 26) || '+00:00'
    else finished_at end
where finished_at is not null and length(finished_at) <> 32;
update students set deleted_at = case length(deleted_at)
    when 25 then substr(deleted_at, 1, 19) || '.000000+00:00'
    when 29 then substr(deleted_at, 1, 23) || '000+00:00'
    when 35 then substr(deleted_at, 1, 26) || '+00:00'
    else deleted_at end
where deleted_at is not null and length(deleted_at) <> 32;
update device_commands set created_at = case length(created_at)
    when 25 then substr(created_at, 1, 19) || '.000000+00:00'
    when 29 then substr(created_at, 1, 23) || '000+00:00'
    when 35 then substr(created_at, 1, 26) || '+00:00'
    else created_at end
where created_at is not null and length(created_at) <> 32;
update device_commands set sent_at = case length(sent_at)
    when 25 then substr(sent_at, 1, 19) || '.000000+00:00'
    when 29 then substr(sent_at, 1, 23) || '000+00:00'
    when 35 then substr(sent_at, 1, 26) || '+00:00'
    else sent_at end
where sent_at is not null and length(sent_at) <> 32;
update device_commands set acked_at = case length(acked_at)
    when 25 then substr(acked_at, 1, 19) || '.000000+00:00'
    when 29 then substr(acked_at, 1, 23) || '000+00:00'
    when 35 then substr(acked_at, 1, 26) || '+00:00'
    else acked_at end
where acked_at is not null and length(acked_at) <> 32;
update device_commands set finished_at = case length(finished_at)
    when 25 then substr(finished_at, 1, 19) || '.000000+00:00'
    when 29 then substr(finished_at, 1, 23) || '000+00:00'
    when 35 then substr(finished_at, 1, 26) || '+00:00'
    else finished_at end
where finished_at is not null and length(finished_at) <> 32;
update device_capabilities set learned_at = case length(learned_at)
    when 25 then substr(learned_at, 1, 19) || '.000000+00:00'
    when 29 then substr(learned_at, 1, 23) || '000+00:00'
    when 35 then substr(learned_at, 1, 26) || '+00:00'
    else learned_at end
where learned_at is not null and length(learned_at) <> 32;
update device_user_sync_status set next_retry_at = case length(next_retry_at)
    when 25 then substr(next_retry_at, 1, 19) || '.000000+00:00'
    when 29 then substr(next_retry_at, 1, 23) || '000+00:00'
    when 35 then substr(next_retry_at, 1, 26) || '+00:00'
    else next_retry_at end
where next_retry_at is not null and length(next_retry_at) <> 32;
update device_user_sync_status set verified_at = case length(verified_at)
    when 25 then substr(verified_at, 1, 19) || '.000000+00:00'
    when 29 then substr(verified_at, 1, 23) || '000+00:00'
    when 35 then substr(verified_at, 1, 26) || '+00:00'
    else verified_at end
where verified_at is not null and length(verified_at) <> 32;
update device_user_sync_status set updated_at = case length(updated_at)
    when 25 then substr(updated_at, 1, 19) || '.000000+00:00'
    when 29 then substr(updated_at, 1, 23) || '000+00:00'
    when 35 then substr(updated_at, 1, 26) || '+00:00'
    else updated_at end
where updated_at is not null and length(updated_at) <> 32;
update sync_alerts set created_at = case length(created_at)
    when 25 then substr(created_at, 1, 19) || '.000000+00:00'
    when 29 then substr(created_at, 1, 23) || '000+00:00'
    when 35 then substr(created_at, 1, 26) || '+00:00'
    else created_at end
where created_at is not null and length(created_at) <> 32;
update sync_alerts set resolved_at = case length(resolved_at)
    when 25 then substr(resolved_at, 1, 19) || '.000000+00:00'
    when 29 then substr(resolved_at, 1, 23) || '000+00:00'
    when 35 then substr(resolved_at, 1, 26) || '+00:00'
    else resolved_at end
where resolved_at is not null and length(resolved_at) <> 32;
update device_commands set not_before = case length(not_before)
    when 25 then substr(not_before, 1, 19) || '.000000+00:00'
    when 29 then substr(not_before, 1, 23) || '000+00:00'
    when 35 then substr(not_before, 1, 26) || '+00:00'
    else not_before end
where not_before is not null and length(not_before) <> 32;
update audit_log set at = case length(at)
    when 25 then substr(at, 1, 19) || '.000000+00:00'
    when 29 then substr(at, 1, 23) || '000+00:00'
    when 35 then substr(at, 1, 26) || '+00:00'
    else at end
where at is not null and length(at) <> 32;
update device_user_sync_status set last_sync_attempt = case length(last_sync_attempt)
    when 25 then substr(last_sync_attempt, 1, 19) || '.000000+00:00'
    when 29 then substr(last_sync_attempt, 1, 23) || '000+00:00'
    when 35 then substr(last_sync_attempt, 1, 26) || '+00:00'
    else last_sync_attempt end
where last_sync_attempt is not null and length(last_sync_attempt) <> 32;
update device_user_sync_status set last_sync_success = case length(last_sync_success)
    when 25 then substr(last_sync_success, 1, 19) || '.000000+00:00'
    when 29 then substr(last_sync_success, 1, 23) || '000+00:00'
    when 35 then substr(last_sync_success, 1, 26) || '+00:00'
    else last_sync_success end
where last_sync_success is not null and length(last_sync_success) <> 32;
