using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class GenericLookupPlans : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(GenericLookupPlansSql.Up);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(GenericLookupPlansSql.Down);
        }
    }
}
