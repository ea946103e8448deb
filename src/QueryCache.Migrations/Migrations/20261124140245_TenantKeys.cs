using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class TenantKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_query_cache_hits_entry",
                schema: "askwealth",
                table: "query_cache_hits");

            migrationBuilder.DropPrimaryKey(
                name: "PK_query_cache_hits",
                schema: "askwealth",
                table: "query_cache_hits");

            migrationBuilder.DropPrimaryKey(
                name: "PK_query_cache_embeddings",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropIndex(
                name: "ux_query_cache_embeddings_user_message",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.AddColumn<string>(
                name: "tenant_id",
                schema: "askwealth",
                table: "query_cache_hits",
                type: "text",
                nullable: true);

            migrationBuilder.Sql(TenantKeysSql.FillHitTenants);

            migrationBuilder.AddPrimaryKey(
                name: "PK_query_cache_hits",
                schema: "askwealth",
                table: "query_cache_hits",
                columns: new[] { "tenant_id", "entry_id" });

            migrationBuilder.AddPrimaryKey(
                name: "PK_query_cache_embeddings",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_query_cache_embeddings_user_message_id",
                schema: "askwealth",
                table: "query_cache_embeddings",
                column: "user_message_id");

            migrationBuilder.CreateIndex(
                name: "ux_query_cache_embeddings_user_message",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "tenant_id", "user_message_id", "embedding_model" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "fk_query_cache_hits_entry",
                schema: "askwealth",
                table: "query_cache_hits",
                columns: new[] { "tenant_id", "entry_id" },
                principalSchema: "askwealth",
                principalTable: "query_cache_embeddings",
                principalColumns: new[] { "tenant_id", "id" },
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.Sql(TenantKeysSql.Up);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(TenantKeysSql.Down);

            migrationBuilder.DropForeignKey(
                name: "fk_query_cache_hits_entry",
                schema: "askwealth",
                table: "query_cache_hits");

            migrationBuilder.DropPrimaryKey(
                name: "PK_query_cache_hits",
                schema: "askwealth",
                table: "query_cache_hits");

            migrationBuilder.DropPrimaryKey(
                name: "PK_query_cache_embeddings",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropIndex(
                name: "ix_query_cache_embeddings_user_message_id",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropIndex(
                name: "ux_query_cache_embeddings_user_message",
                schema: "askwealth",
                table: "query_cache_embeddings");

            migrationBuilder.DropColumn(
                name: "tenant_id",
                schema: "askwealth",
                table: "query_cache_hits");

            migrationBuilder.AddPrimaryKey(
                name: "PK_query_cache_hits",
                schema: "askwealth",
                table: "query_cache_hits",
                column: "entry_id");

            migrationBuilder.AddPrimaryKey(
                name: "PK_query_cache_embeddings",
                schema: "askwealth",
                table: "query_cache_embeddings",
                column: "id");

            migrationBuilder.CreateIndex(
                name: "ux_query_cache_embeddings_user_message",
                schema: "askwealth",
                table: "query_cache_embeddings",
                columns: new[] { "user_message_id", "embedding_model" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "fk_query_cache_hits_entry",
                schema: "askwealth",
                table: "query_cache_hits",
                column: "entry_id",
                principalSchema: "askwealth",
                principalTable: "query_cache_embeddings",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
