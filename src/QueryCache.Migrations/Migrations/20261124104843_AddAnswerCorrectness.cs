using Microsoft.EntityFrameworkCore.Migrations;
using QueryCache.Data;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class AddAnswerCorrectness : EmbeddingColumnMigration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string[]>(
                name: "contrast_terms",
                schema: "askwealth",
                table: "query_cache_config",
                type: "text[]",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "guard_enabled",
                schema: "askwealth",
                table: "query_cache_config",
                type: "boolean",
                nullable: true);

            migrationBuilder.UpdateData(
                schema: "askwealth",
                table: "query_cache_config",
                keyColumn: "id",
                keyValue: 1,
                columns: new[] { "contrast_terms", "guard_enabled" },
                values: new object[] { new[] { "ISA", "stocks and shares ISA|S&S ISA", "cash ISA", "Lifetime ISA|LISA", "Junior ISA|JISA", "Help to Buy ISA", "innovative finance ISA|IFISA", "flexible ISA", "SIPP", "Junior SIPP", "pension", "workplace pension", "state pension", "personal pension", "defined benefit|final salary", "annuity", "general investment account|GIA", "savings account", "current account", "shares", "bonds", "gilts", "funds", "ETF|exchange traded fund", "investment trust", "gold", "property", "crypto|bitcoin", "UK", "US|USA", "Europe", "emerging markets" }, true });

            migrationBuilder.AddCheckConstraint(
                name: "ck_query_cache_config_global_guard",
                schema: "askwealth",
                table: "query_cache_config",
                sql: "tenant_id IS NOT NULL OR (guard_enabled IS NOT NULL AND contrast_terms IS NOT NULL)");

            migrationBuilder.Sql(AnswerCorrectnessSql.Up(Dimensions));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(AnswerCorrectnessSql.Down);

            migrationBuilder.DropCheckConstraint(
                name: "ck_query_cache_config_global_guard",
                schema: "askwealth",
                table: "query_cache_config");

            migrationBuilder.DropColumn(
                name: "contrast_terms",
                schema: "askwealth",
                table: "query_cache_config");

            migrationBuilder.DropColumn(
                name: "guard_enabled",
                schema: "askwealth",
                table: "query_cache_config");
        }
    }
}
