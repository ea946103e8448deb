namespace QueryCache.Migrations.Migrations;

/// <summary>
/// Tables of Quartz.NET's ADO.NET job store (PostgreSQL delegate, table prefix <c>querycache_quartz.qrtz_</c>), so that
/// app instances sharing the database run each job firing once (clustering). Times are Quartz's ticks (bigint).
/// </summary>
internal static class QuartzJobStoreSql
{
    public const string Create = """
        CREATE SCHEMA IF NOT EXISTS querycache_quartz;

        CREATE TABLE querycache_quartz.qrtz_job_details (
            sched_name text NOT NULL,
            job_name text NOT NULL,
            job_group text NOT NULL,
            description text,
            job_class_name text NOT NULL,
            is_durable boolean NOT NULL,
            is_nonconcurrent boolean NOT NULL,
            is_update_data boolean NOT NULL,
            requests_recovery boolean NOT NULL,
            job_data bytea,
            PRIMARY KEY (sched_name, job_name, job_group));

        CREATE TABLE querycache_quartz.qrtz_triggers (
            sched_name text NOT NULL,
            trigger_name text NOT NULL,
            trigger_group text NOT NULL,
            job_name text NOT NULL,
            job_group text NOT NULL,
            description text,
            next_fire_time bigint,
            prev_fire_time bigint,
            priority integer,
            trigger_state text NOT NULL,
            trigger_type text NOT NULL,
            start_time bigint NOT NULL,
            end_time bigint,
            calendar_name text,
            misfire_instr smallint,
            job_data bytea,
            PRIMARY KEY (sched_name, trigger_name, trigger_group),
            FOREIGN KEY (sched_name, job_name, job_group) REFERENCES querycache_quartz.qrtz_job_details (sched_name, job_name, job_group));

        CREATE TABLE querycache_quartz.qrtz_simple_triggers (
            sched_name text NOT NULL,
            trigger_name text NOT NULL,
            trigger_group text NOT NULL,
            repeat_count bigint NOT NULL,
            repeat_interval bigint NOT NULL,
            times_triggered bigint NOT NULL,
            PRIMARY KEY (sched_name, trigger_name, trigger_group),
            FOREIGN KEY (sched_name, trigger_name, trigger_group)
                REFERENCES querycache_quartz.qrtz_triggers (sched_name, trigger_name, trigger_group) ON DELETE CASCADE);

        CREATE TABLE querycache_quartz.qrtz_simprop_triggers (
            sched_name text NOT NULL,
            trigger_name text NOT NULL,
            trigger_group text NOT NULL,
            str_prop_1 text,
            str_prop_2 text,
            str_prop_3 text,
            int_prop_1 integer,
            int_prop_2 integer,
            long_prop_1 bigint,
            long_prop_2 bigint,
            dec_prop_1 numeric,
            dec_prop_2 numeric,
            bool_prop_1 boolean,
            bool_prop_2 boolean,
            time_zone_id text,
            PRIMARY KEY (sched_name, trigger_name, trigger_group),
            FOREIGN KEY (sched_name, trigger_name, trigger_group)
                REFERENCES querycache_quartz.qrtz_triggers (sched_name, trigger_name, trigger_group) ON DELETE CASCADE);

        CREATE TABLE querycache_quartz.qrtz_cron_triggers (
            sched_name text NOT NULL,
            trigger_name text NOT NULL,
            trigger_group text NOT NULL,
            cron_expression text NOT NULL,
            time_zone_id text,
            PRIMARY KEY (sched_name, trigger_name, trigger_group),
            FOREIGN KEY (sched_name, trigger_name, trigger_group)
                REFERENCES querycache_quartz.qrtz_triggers (sched_name, trigger_name, trigger_group) ON DELETE CASCADE);

        CREATE TABLE querycache_quartz.qrtz_blob_triggers (
            sched_name text NOT NULL,
            trigger_name text NOT NULL,
            trigger_group text NOT NULL,
            blob_data bytea,
            PRIMARY KEY (sched_name, trigger_name, trigger_group),
            FOREIGN KEY (sched_name, trigger_name, trigger_group)
                REFERENCES querycache_quartz.qrtz_triggers (sched_name, trigger_name, trigger_group) ON DELETE CASCADE);

        CREATE TABLE querycache_quartz.qrtz_calendars (
            sched_name text NOT NULL,
            calendar_name text NOT NULL,
            calendar bytea NOT NULL,
            PRIMARY KEY (sched_name, calendar_name));

        CREATE TABLE querycache_quartz.qrtz_paused_trigger_grps (
            sched_name text NOT NULL,
            trigger_group text NOT NULL,
            PRIMARY KEY (sched_name, trigger_group));

        CREATE TABLE querycache_quartz.qrtz_fired_triggers (
            sched_name text NOT NULL,
            entry_id text NOT NULL,
            trigger_name text NOT NULL,
            trigger_group text NOT NULL,
            instance_name text NOT NULL,
            fired_time bigint NOT NULL,
            sched_time bigint NOT NULL,
            priority integer NOT NULL,
            state text NOT NULL,
            job_name text,
            job_group text,
            is_nonconcurrent boolean NOT NULL,
            requests_recovery boolean,
            PRIMARY KEY (sched_name, entry_id));

        CREATE TABLE querycache_quartz.qrtz_scheduler_state (
            sched_name text NOT NULL,
            instance_name text NOT NULL,
            last_checkin_time bigint NOT NULL,
            checkin_interval bigint NOT NULL,
            PRIMARY KEY (sched_name, instance_name));

        CREATE TABLE querycache_quartz.qrtz_locks (
            sched_name text NOT NULL,
            lock_name text NOT NULL,
            PRIMARY KEY (sched_name, lock_name));

        CREATE INDEX idx_qrtz_j_req_recovery ON querycache_quartz.qrtz_job_details (requests_recovery);
        CREATE INDEX idx_qrtz_t_next_fire_time ON querycache_quartz.qrtz_triggers (next_fire_time);
        CREATE INDEX idx_qrtz_t_state ON querycache_quartz.qrtz_triggers (trigger_state);
        CREATE INDEX idx_qrtz_t_nft_st ON querycache_quartz.qrtz_triggers (next_fire_time, trigger_state);
        CREATE INDEX idx_qrtz_ft_trig_name ON querycache_quartz.qrtz_fired_triggers (trigger_name);
        CREATE INDEX idx_qrtz_ft_trig_group ON querycache_quartz.qrtz_fired_triggers (trigger_group);
        CREATE INDEX idx_qrtz_ft_trig_nm_gp ON querycache_quartz.qrtz_fired_triggers (sched_name, trigger_name, trigger_group);
        CREATE INDEX idx_qrtz_ft_trig_inst_name ON querycache_quartz.qrtz_fired_triggers (instance_name);
        CREATE INDEX idx_qrtz_ft_job_name ON querycache_quartz.qrtz_fired_triggers (job_name);
        CREATE INDEX idx_qrtz_ft_job_group ON querycache_quartz.qrtz_fired_triggers (job_group);
        CREATE INDEX idx_qrtz_ft_job_req_recovery ON querycache_quartz.qrtz_fired_triggers (requests_recovery);
        """;

    public const string Drop = """
        DROP TABLE IF EXISTS querycache_quartz.qrtz_fired_triggers, querycache_quartz.qrtz_paused_trigger_grps,
            querycache_quartz.qrtz_scheduler_state, querycache_quartz.qrtz_locks, querycache_quartz.qrtz_simple_triggers,
            querycache_quartz.qrtz_simprop_triggers, querycache_quartz.qrtz_cron_triggers, querycache_quartz.qrtz_blob_triggers,
            querycache_quartz.qrtz_triggers, querycache_quartz.qrtz_job_details, querycache_quartz.qrtz_calendars;
        DROP SCHEMA IF EXISTS querycache_quartz;
        """;
}
