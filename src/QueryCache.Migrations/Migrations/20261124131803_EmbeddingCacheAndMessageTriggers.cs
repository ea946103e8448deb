using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Pgvector;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class EmbeddingCacheAndMessageTriggers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "query_cache_text_embeddings",
                schema: "askwealth",
                columns: table => new
                {
                    model = table.Column<string>(type: "text", nullable: false),
                    text_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    embedding = table.Column<Vector>(type: "vector", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_text_embeddings", x => new { x.model, x.text_hash });
                });

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_text_embeddings_expires_at",
                schema: "askwealth",
                table: "query_cache_text_embeddings",
                column: "expires_at");

            migrationBuilder.Sql(FollowSourcesSql.Up);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(FollowSourcesSql.Down);

            migrationBuilder.DropTable(
                name: "query_cache_text_embeddings",
                schema: "askwealth");
        }
    }
}
