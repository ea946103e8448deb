using Microsoft.EntityFrameworkCore.Migrations;
using QueryCache.Data;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class PrefixGraphs : EmbeddingColumnMigration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(PrefixGraphsSql.Up(Column));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(PrefixGraphsSql.Down(Column));
        }
    }
}
