using System;
using Microsoft.EntityFrameworkCore.Migrations;
using QueryCache.Data;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class CorroboratedSharing : EmbeddingColumnMigration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "shared_at",
                schema: "askwealth",
                table: "query_cache_embeddings",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "sharing",
                schema: "askwealth",
                table: "query_cache_embeddings",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "share_after_askers",
                schema: "askwealth",
                table: "query_cache_config",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "query_cache_askers",
                schema: "askwealth",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    entry_id = table.Column<long>(type: "bigint", nullable: false),
                    user_id = table.Column<string>(type: "text", nullable: false),
                    asked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_askers", x => new { x.tenant_id, x.entry_id, x.user_id });
                    table.CheckConstraint("ck_query_cache_askers_user", "user_id <> ''");
                    table.ForeignKey(
                        name: "fk_query_cache_askers_entry",
                        columns: x => new { x.tenant_id, x.entry_id },
                        principalSchema: "askwealth",
                        principalTable: "query_cache_embeddings",
                        principalColumns: new[] { "tenant_id", "id" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.UpdateData(
                schema: "askwealth",
                table: "query_cache_config",
                keyColumn: "id",
                keyValue: 1,
                column: "share_after_askers",
                value: 1);

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_sharing_pending",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "embedding_model" },
                filter: "sharing = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_tenant_sharing",
                schema: "askwealth",
                table: "query_cache_embeddings",
                column: "tenant_id",
                filter: "sharing IS NOT NULL");

            migrationBuilder.AddCheckConstraint(
                name: "ck_query_cache_embeddings_pending_private",
                schema: "askwealth",
                table: "query_cache_embeddings",
                sql: "sharing IS DISTINCT FROM 'pending' OR user_id = asked_by");

            migrationBuilder.AddCheckConstraint(
                name: "ck_query_cache_embeddings_sharing",
                schema: "askwealth",
                table: "query_cache_embeddings",
                sql: "sharing IN ('pending', 'corroborated', 'approved')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_query_cache_config_global_sharing",
                schema: "askwealth",
                table: "query_cache_config",
                sql: "tenant_id IS NOT NULL OR share_after_askers IS NOT NULL");

            migrationBuilder.AddCheckConstraint(
                name: "ck_query_cache_config_share_after_askers",
                schema: "askwealth",
                table: "query_cache_config",
                sql: "share_after_askers BETWEEN 1 AND 1000");

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_askers_tenant_user",
                schema: "askwealth",
                table: "query_cache_askers",
                columns: new[] { "tenant_id", "user_id" });

            migrationBuilder.Sql(FastLookupsSql.Fill(CorroboratedSharingSql.Up, Column));
            migrationBuilder.Sql(CorroboratedSharingSql.ReapplyRowLevelSecurity);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(CorroboratedSharingSql.Down);
            migrationBuilder.DropTable(
                name: "query_cache_askers",
                schema: "askwealth");

            migrationBuilder.DropIndex(
                name: "ix_query_cache_embeddings_sharing_pending",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropIndex(
                name: "ix_query_cache_embeddings_tenant_sharing",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropCheckConstraint(
                name: "ck_query_cache_embeddings_pending_private",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropCheckConstraint(
                name: "ck_query_cache_embeddings_sharing",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropCheckConstraint(
                name: "ck_query_cache_config_global_sharing",
                schema: "askwealth",
                table: "query_cache_config");

            migrationBuilder.DropCheckConstraint(
                name: "ck_query_cache_config_share_after_askers",
                schema: "askwealth",
                table: "query_cache_config");

            migrationBuilder.DropColumn(
                name: "shared_at",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropColumn(
                name: "sharing",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropColumn(
                name: "share_after_askers",
                schema: "askwealth",
                table: "query_cache_config");
        }
    }
}
