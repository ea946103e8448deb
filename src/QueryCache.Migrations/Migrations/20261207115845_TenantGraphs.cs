using Microsoft.EntityFrameworkCore.Migrations;
using QueryCache.Data;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class TenantGraphs : EmbeddingColumnMigration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(TenantGraphsSql.Up(Column));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(TenantGraphsSql.Down(Column));
        }
    }
}
