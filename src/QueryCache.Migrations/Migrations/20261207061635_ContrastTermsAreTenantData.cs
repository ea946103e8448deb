using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <summary>
    /// The guard's contrast terms become data a team sets: the wealth-management list earlier migrations seeded as the
    /// global setting is cleared where it was never changed (a list a team edited stays). The sample's list is
    /// samples/wealth-contrast-terms.txt; <c>querycache config set --contrast-terms @FILE</c> applies a list.
    /// </summary>
    internal partial class ContrastTermsAreTenantData : Migration
    {
        private static readonly string[] SeededTerms = ["ISA", "stocks and shares ISA|S&S ISA", "cash ISA", "Lifetime ISA|LISA", "Junior ISA|JISA", "Help to Buy ISA", "innovative finance ISA|IFISA", "flexible ISA", "SIPP", "Junior SIPP", "pension", "workplace pension", "state pension", "personal pension", "defined benefit|final salary", "annuity", "general investment account|GIA", "savings account", "current account", "shares", "bonds", "gilts", "funds", "ETF|exchange traded fund", "investment trust", "gold", "property", "crypto|bitcoin", "UK", "US|USA", "Europe", "emerging markets"];

        private static string SeededArray => "ARRAY[" + string.Join(", ", SeededTerms.Select(t => "'" + t.Replace("'", "''") + "'")) + "]::text[]";

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(
            $"UPDATE askwealth.query_cache_config SET contrast_terms = '{{}}' WHERE id = 1 AND contrast_terms = {SeededArray};");

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(
            $"UPDATE askwealth.query_cache_config SET contrast_terms = {SeededArray} WHERE id = 1 AND contrast_terms = '{{}}';");
    }
}
