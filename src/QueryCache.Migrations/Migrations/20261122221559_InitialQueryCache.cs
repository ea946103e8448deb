using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;
using Pgvector;
using QueryCache.Data;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class InitialQueryCache : EmbeddingColumnMigration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "askwealth");

            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:vector", ",,");

            migrationBuilder.CreateTable(
                name: "query_cache_config",
                schema: "askwealth",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:IdentitySequenceOptions", "'2', '1', '', '', 'False', '1'")
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<string>(type: "text", nullable: true),
                    similarity_threshold = table.Column<double>(type: "double precision", nullable: true),
                    cache_enabled = table.Column<bool>(type: "boolean", nullable: true),
                    max_cache_entries = table.Column<int>(type: "integer", nullable: true),
                    default_ttl = table.Column<TimeSpan>(type: "interval", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_config", x => x.id);
                    table.CheckConstraint("ck_query_cache_config_global_complete", "tenant_id IS NOT NULL OR (similarity_threshold IS NOT NULL AND cache_enabled IS NOT NULL AND max_cache_entries IS NOT NULL)");
                    table.CheckConstraint("ck_query_cache_config_max_entries", "max_cache_entries >= 1");
                    table.CheckConstraint("ck_query_cache_config_tenant", "tenant_id <> ''");
                    table.CheckConstraint("ck_query_cache_config_threshold", "similarity_threshold BETWEEN 0 AND 1");
                    table.CheckConstraint("ck_query_cache_config_ttl", "default_ttl > interval '0'");
                });

            migrationBuilder.CreateTable(
                name: "query_cache_embeddings",
                schema: "askwealth",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<string>(type: "text", nullable: true),
                    user_message_id = table.Column<Guid>(type: "uuid", nullable: true),
                    assistant_message_id = table.Column<Guid>(type: "uuid", nullable: true),
                    query_text = table.Column<string>(type: "text", nullable: false),
                    query_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    answer = table.Column<string>(type: "text", nullable: false),
                    embedding = table.Column<Vector>(type: $"vector({Dimensions})", nullable: false),
                    embedding_model = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    hit_count = table.Column<long>(type: "bigint", nullable: false, defaultValue: 0L),
                    last_hit_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_embeddings", x => x.id);
                    table.CheckConstraint("ck_query_cache_embeddings_model", "embedding_model <> ''");
                    table.CheckConstraint("ck_query_cache_embeddings_query_hash", "octet_length(query_hash) = 32");
                    table.CheckConstraint("ck_query_cache_embeddings_tenant", "tenant_id <> ''");
                })
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.InsertData(
                schema: "askwealth",
                table: "query_cache_config",
                columns: new[] { "id", "cache_enabled", "default_ttl", "max_cache_entries", "similarity_threshold", "tenant_id", "updated_at" },
                values: new object[] { 1, true, null, 5000, 0.84999999999999998, null, new DateTimeOffset(new DateTime(2026, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)) });

            migrationBuilder.CreateIndex(
                name: "ux_query_cache_config_tenant",
                schema: "askwealth",
                table: "query_cache_config",
                column: "tenant_id",
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_assistant_message",
                schema: "askwealth",
                table: "query_cache_embeddings",
                column: "assistant_message_id");

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
                name: "ix_query_cache_embeddings_expires_at",
                schema: "askwealth",
                table: "query_cache_embeddings",
                column: "expires_at",
                filter: "expires_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_tenant_hash",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "query_hash" });

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_tenant_user",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "user_id" });

            migrationBuilder.CreateIndex(
                name: "ux_query_cache_embeddings_user_message",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "user_message_id", "embedding_model" },
                unique: true);

            migrationBuilder.Sql(InitialQueryCacheSql.CreateFunctions(Dimensions));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(InitialQueryCacheSql.DropFunctions);

            migrationBuilder.DropTable(
                name: "query_cache_config",
                schema: "askwealth");

            migrationBuilder.DropTable(
                name: "query_cache_embeddings",
                schema: "askwealth");
        }
    }
}
