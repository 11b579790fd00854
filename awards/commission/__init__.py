"""The commission's secret ballot: a round of the final stage where the commission votes yes /
no / abstain per entry or ranks each category's entries, the count, the receipts members check,
the meeting's protocol and the award decisions that follow."""
