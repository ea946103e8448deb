using System;
using Microsoft.EntityFrameworkCore.Migrations;
using QueryCache.Data;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class FastLookups : EmbeddingColumnMigration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_query_cache_embeddings_tenant_hash",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.AlterTable(
                name: "query_cache_embeddings",
                schema: "askwealth")
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.AddColumn<bool>(
                name: "indexed",
                schema: "askwealth",
                table: "query_cache_embeddings",
                type: "boolean",
                nullable: false,
                defaultValue: true);

            migrationBuilder.CreateTable(
                name: "query_cache_hits",
                schema: "askwealth",
                columns: table => new
                {
                    entry_id = table.Column<long>(type: "bigint", nullable: false),
                    hit_count = table.Column<long>(type: "bigint", nullable: false),
                    last_hit_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_hits", x => x.entry_id);
                    table.CheckConstraint("ck_query_cache_hits_count", "hit_count >= 1");
                    table.ForeignKey(
                        name: "fk_query_cache_hits_entry",
                        column: x => x.entry_id,
                        principalSchema: "askwealth",
                        principalTable: "query_cache_embeddings",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "query_cache_tenant_sizes",
                schema: "askwealth",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    embedding_model = table.Column<string>(type: "text", nullable: false),
                    entries = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_tenant_sizes", x => new { x.tenant_id, x.embedding_model });
                    table.CheckConstraint("ck_query_cache_tenant_sizes_entries", "entries >= 0");
                });

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_pending",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "embedding_model" },
                filter: "NOT indexed");

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_scope",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "embedding_model", "query_hash" });

            migrationBuilder.Sql(FastLookupsSql.MoveHitCounts);

            migrationBuilder.DropColumn(
                name: "hit_count",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropColumn(
                name: "last_hit_at",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.Sql(FastLookupsSql.Up(Column));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(FastLookupsSql.RestoreColumn(Column));

            migrationBuilder.AddColumn<long>(
                name: "hit_count",
                schema: "askwealth",
                table: "query_cache_embeddings",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_hit_at",
                schema: "askwealth",
                table: "query_cache_embeddings",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.Sql(FastLookupsSql.RestoreHitCounts);

            migrationBuilder.DropTable(
                name: "query_cache_hits",
                schema: "askwealth");

            migrationBuilder.DropTable(
                name: "query_cache_tenant_sizes",
                schema: "askwealth");

            migrationBuilder.DropIndex(
                name: "ix_query_cache_embeddings_pending",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropIndex(
                name: "ix_query_cache_embeddings_scope",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropColumn(
                name: "indexed",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.AlterTable(
                name: "query_cache_embeddings",
                schema: "askwealth")
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);

            // pgvector indexes vector columns up to 2000 dimensions; a larger (halfvec-only) model is read exactly
            // until FastLookups builds its halfvec index.
            if (Dimensions <= 2000)
            {
                migrationBuilder.CreateIndex(
                    name: "ix_query_cache_embeddings_embedding_hnsw",
                    schema: "askwealth",
                    table: "query_cache_embeddings",
                    column: "embedding")
                    .Annotation("Npgsql:IndexMethod", "hnsw")
                    .Annotation("Npgsql:IndexOperators", new[] { "vector_cosine_ops" })
                    .Annotation("Npgsql:StorageParameter:ef_construction", 64)
                    .Annotation("Npgsql:StorageParameter:m", 16);
            }

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_tenant_hash",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "query_hash" });

            migrationBuilder.Sql(FastLookupsSql.RestoreFunctions(Column));
        }
    }
}
