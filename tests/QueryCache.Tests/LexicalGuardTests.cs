using QueryCache.Tests.Infrastructure;
using QueryCache.Correctness;

namespace QueryCache.Tests;

/// <summary>
/// The lexical guard, category by category: its hard negative is refused for the right reason and a paraphrase of the
/// same kind goes through. The examples are written for these tests, apart from the labelled evaluation set.
/// </summary>
public sealed class LexicalGuardTests
{
    private static readonly IReadOnlyList<string> Terms = SampleContrastTerms.Wealth;

    [Theory]
    [InlineData("Can I put £15,000 in my ISA?", "Can I put £16,000 in my ISA?")]
    [InlineData("Can I put £15,000 in my ISA?", "Can I put £1,500 in my ISA?")]
    [InlineData("Is the exit charge 1.5%?", "Is the exit charge 2.5%?")]
    [InlineData("Can I draw my pension at 58?", "Can I draw my pension at 68?")]
    [InlineData("Which rules applied in 2022/23?", "Which rules applied in 2023/24?")]
    [InlineData("Is the payment due on 5 April?", "Is the payment due on 5 October?")]
    [InlineData("Can I gift eighty thousand pounds?", "Can I gift eight thousand pounds?")]
    [InlineData("Does the fee change on Monday?", "Does the fee change on Friday?")]
    public void Different_numbers_amounts_or_dates_are_refused(string cached, string asked) =>
        Assert.Equal(CacheMissReason.GuardNumbers, LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("Can I put £15,000 in my ISA?", "Am I allowed to put 15k into my ISA?")]
    [InlineData("Can I gift £3,000 tax-free?", "Is gifting three thousand pounds tax free?")]
    [InlineData("What is 25% of my pot?", "How much is 25 percent of my pot?")]
    [InlineData("Is 6 April the start of the tax year?", "Does the tax year start on April 6?")]
    [InlineData("How do I set up 2FA?", "How do I set up two-factor login?")]
    public void The_same_numbers_written_differently_go_through(string cached, string asked) =>
        Assert.Null(LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("Do I pay tax if I sell my fund?", "Do I pay tax if I don't sell my fund?")]
    [InlineData("Can I withdraw with a penalty?", "Can I withdraw without a penalty?")]
    [InlineData("Is my adviser regulated?", "Is my adviser not regulated?")]
    [InlineData("Why can I see my SIPP?", "Why am I unable to see my SIPP?")]
    [InlineData("What happens if I claim my refund?", "What happens if I never claim my refund?")]
    public void One_question_negated_and_the_other_not_is_refused(string cached, string asked) =>
        Assert.Equal(CacheMissReason.GuardNegation, LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("What if I don't claim my refund?", "What happens if I do not claim my refund?")]
    [InlineData("Why can't I see my SIPP?", "Why am I unable to see my SIPP?")]
    [InlineData("Are switches free of charge?", "Is there no fee for switching?")]
    public void Negation_on_both_sides_or_a_fee_free_idiom_goes_through(string cached, string asked) =>
        Assert.Null(LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("How do I open my SIPP?", "How do I close my SIPP?")]
    [InlineData("Should I buy more bonds?", "Should I sell my bonds?")]
    [InlineData("How do I increase my regular saving?", "How do I reduce my regular saving?")]
    [InlineData("How do I turn on alerts?", "How do I turn off alerts?")]
    [InlineData("Can I move shares into my ISA?", "Can I move shares out of my ISA?")]
    [InlineData("Can I top up my pension?", "Can I withdraw from my pension?")]
    [InlineData("Is my account frozen, and how do I freeze it?", "How do I unfreeze my account?")]
    [InlineData("Is my dividend taxable?", "Is my dividend tax-free?")]
    public void Opposite_actions_are_refused(string cached, string asked) =>
        Assert.Equal(CacheMissReason.GuardOppositeAction, LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("How do I shut my SIPP?", "How can I close my SIPP?")]
    [InlineData("How do I purchase bonds?", "Where can I buy bonds?")]
    [InlineData("How do I add money to my pension?", "How do I top up my pension?")]
    [InlineData("Why did my fund drop?", "Why has my fund fallen?")]
    public void The_same_action_in_other_words_goes_through(string cached, string asked) =>
        Assert.Null(LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("Can I pay into my pension?", "Can I pay into my husband's pension?", CacheMissReason.GuardPerson)]
    [InlineData("Can I pay into my son's pension?", "Can I pay into my daughter's pension?", CacheMissReason.GuardPerson)]
    [InlineData("Can my employer pay into my SIPP?", "Can my partner pay into my SIPP?", CacheMissReason.GuardPerson)]
    [InlineData("What did I earn this tax year?", "What did I earn last tax year?", CacheMissReason.GuardTime)]
    [InlineData("Was my payment taken today?", "Was my payment taken yesterday?", CacheMissReason.GuardTime)]
    [InlineData("What were the fees this month?", "What will the fees be next month?", CacheMissReason.GuardTime)]
    public void Another_person_or_period_is_refused(string cached, string asked, CacheMissReason reason) =>
        Assert.Equal(reason, LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("Can I pay into my husband's SIPP?", "Can I contribute to my spouse's SIPP?")]
    [InlineData("What did I earn last tax year?", "What were my earnings in the previous tax year?")]
    [InlineData("How do ISAs work?", "How does my ISA work?")]
    public void The_same_person_or_period_in_other_words_goes_through(string cached, string asked) =>
        Assert.Null(LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("What are the fees on my SIPP?", "What are the fees on my cash ISA?")]
    [InlineData("Can I hold gilts in my ISA?", "Can I hold gold in my ISA?")]
    [InlineData("Is a Lifetime ISA right for me?", "Is a Junior ISA right for me?")]
    public void Different_contrast_terms_are_refused(string cached, string asked) =>
        Assert.Equal(CacheMissReason.GuardContrastTerm, LexicalGuard.Check(asked, cached, Terms));

    [Theory]
    [InlineData("What is a LISA?", "What is a Lifetime ISA?")]
    [InlineData("Do you offer ETFs?", "Do you offer exchange traded funds?")]
    [InlineData("What are your fees?", "What are the fees on my SIPP?")]
    public void The_same_term_spelled_otherwise_or_named_on_one_side_only_goes_through(string cached, string asked) =>
        Assert.Null(LexicalGuard.Check(asked, cached, Terms));

    [Fact]
    public void Contrast_terms_are_the_tenants_own_list()
    {
        Assert.Null(LexicalGuard.Check("What are the fees on the Gold plan?", "What are the fees on the Silver plan?", []));
        Assert.Equal(CacheMissReason.GuardContrastTerm,
            LexicalGuard.Check("What are the fees on the Gold plan?", "What are the fees on the Silver plan?", ["Gold plan", "Silver plan"]));
    }
}
