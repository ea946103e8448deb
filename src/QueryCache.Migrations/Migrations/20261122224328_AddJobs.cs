using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class AddJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "query_cache_job_state",
                schema: "askwealth",
                columns: table => new
                {
                    job = table.Column<string>(type: "text", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    tenant_filter = table.Column<string>(type: "text", nullable: true),
                    since_filter = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    until_filter = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    cursor_asked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    cursor_user_message_id = table.Column<Guid>(type: "uuid", nullable: true),
                    total = table.Column<long>(type: "bigint", nullable: true),
                    processed = table.Column<long>(type: "bigint", nullable: false),
                    added = table.Column<long>(type: "bigint", nullable: false),
                    already_cached = table.Column<long>(type: "bigint", nullable: false),
                    skipped = table.Column<long>(type: "bigint", nullable: false),
                    failed = table.Column<long>(type: "bigint", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_job_state", x => x.job);
                    table.CheckConstraint("ck_query_cache_job_state_counts", "processed >= 0 AND added >= 0 AND already_cached >= 0 AND skipped >= 0 AND failed >= 0");
                    table.CheckConstraint("ck_query_cache_job_state_status", "status IN ('running', 'completed', 'interrupted', 'failed')");
                });

            // Quartz.NET's clustered job store creates its own tables here when it first starts (ProvisionSchema in
            // UseQueryCacheClusteredStore), so they always match the Quartz version the app runs.
            migrationBuilder.Sql("CREATE SCHEMA IF NOT EXISTS querycache_quartz;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP SCHEMA IF EXISTS querycache_quartz CASCADE;");

            migrationBuilder.DropTable(
                name: "query_cache_job_state",
                schema: "askwealth");
        }
    }
}
