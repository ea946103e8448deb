using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class AddErasure : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "asked_by",
                schema: "askwealth",
                table: "query_cache_embeddings",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "query_cache_erasures",
                schema: "askwealth",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<string>(type: "text", nullable: false),
                    erased_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_erasures", x => new { x.tenant_id, x.user_id });
                });

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_tenant_asked_by",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "asked_by" },
                filter: "asked_by IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "query_cache_erasures",
                schema: "askwealth");

            migrationBuilder.DropIndex(
                name: "ix_query_cache_embeddings_tenant_asked_by",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropColumn(
                name: "asked_by",
                schema: "askwealth",
                table: "query_cache_embeddings");
        }
    }
}
