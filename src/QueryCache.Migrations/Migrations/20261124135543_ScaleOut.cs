using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace QueryCache.Migrations.Migrations
{
    /// <inheritdoc />
    internal partial class ScaleOut : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(ScaleOutSql.Up);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(ScaleOutSql.Down);
        }
    }
}
