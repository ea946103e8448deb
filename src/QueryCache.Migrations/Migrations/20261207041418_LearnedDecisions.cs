using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;
using QueryCache.Data;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class LearnedDecisions : EmbeddingColumnMigration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "query_cache_decisions",
                schema: "askwealth",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    tenant_id = table.Column<string>(type: "text", nullable: true),
                    embedding_model = table.Column<string>(type: "text", nullable: false),
                    max_false_hit_rate = table.Column<double>(type: "double precision", nullable: false),
                    means = table.Column<double[]>(type: "double precision[]", nullable: false),
                    scales = table.Column<double[]>(type: "double precision[]", nullable: false),
                    weights = table.Column<double[]>(type: "double precision[]", nullable: false),
                    bias = table.Column<double>(type: "double precision", nullable: false),
                    cutoff = table.Column<double>(type: "double precision", nullable: false),
                    label_count = table.Column<int>(type: "integer", nullable: false),
                    right_count = table.Column<int>(type: "integer", nullable: false),
                    expected_false_hit_rate = table.Column<double>(type: "double precision", nullable: false),
                    fitted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_decisions", x => x.id);
                    table.CheckConstraint("ck_query_cache_decisions_counts", "right_count BETWEEN 0 AND label_count");
                    table.CheckConstraint("ck_query_cache_decisions_rate", "max_false_hit_rate > 0 AND max_false_hit_rate < 1");
                });

            migrationBuilder.CreateTable(
                name: "query_cache_labels",
                schema: "askwealth",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    tenant_id = table.Column<string>(type: "text", nullable: true),
                    user_id = table.Column<string>(type: "text", nullable: true),
                    embedding_model = table.Column<string>(type: "text", nullable: false),
                    question = table.Column<string>(type: "text", nullable: false),
                    cached_question = table.Column<string>(type: "text", nullable: false),
                    similarity = table.Column<double>(type: "double precision", nullable: false),
                    is_right = table.Column<bool>(type: "boolean", nullable: false),
                    source = table.Column<string>(type: "text", nullable: false),
                    entry_id = table.Column<long>(type: "bigint", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_labels", x => x.id);
                    table.CheckConstraint("ck_query_cache_labels_similarity", "similarity BETWEEN -1 AND 1");
                    table.CheckConstraint("ck_query_cache_labels_source", "source IN ('pairs', 'verifier', 'feedback', 'audit')");
                    table.CheckConstraint("ck_query_cache_labels_tenant", "tenant_id <> ''");
                    table.CheckConstraint("ck_query_cache_labels_texts", "question <> '' AND cached_question <> ''");
                });

            migrationBuilder.CreateTable(
                name: "query_cache_withdrawn",
                schema: "askwealth",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    query_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    entry_id = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_cache_withdrawn", x => new { x.tenant_id, x.query_hash, x.entry_id });
                    table.ForeignKey(
                        name: "fk_query_cache_withdrawn_entry",
                        columns: x => new { x.tenant_id, x.entry_id },
                        principalSchema: "askwealth",
                        principalTable: "query_cache_embeddings",
                        principalColumns: new[] { "tenant_id", "id" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ux_query_cache_decisions_scope",
                schema: "askwealth",
                table: "query_cache_decisions",
                columns: new[] { "tenant_id", "embedding_model" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_labels_scope",
                schema: "askwealth",
                table: "query_cache_labels",
                columns: new[] { "embedding_model", "tenant_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_labels_tenant_user",
                schema: "askwealth",
                table: "query_cache_labels",
                columns: new[] { "tenant_id", "user_id" },
                filter: "user_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_query_cache_withdrawn_tenant_id_entry_id",
                schema: "askwealth",
                table: "query_cache_withdrawn",
                columns: new[] { "tenant_id", "entry_id" });

            migrationBuilder.Sql(LearnedDecisionsSql.Up(Column));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(LearnedDecisionsSql.Down);

            migrationBuilder.DropTable(
                name: "query_cache_decisions",
                schema: "askwealth");

            migrationBuilder.DropTable(
                name: "query_cache_labels",
                schema: "askwealth");

            migrationBuilder.DropTable(
                name: "query_cache_withdrawn",
                schema: "askwealth");
        }
    }
}
