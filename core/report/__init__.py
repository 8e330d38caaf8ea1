"""What leaves GoalGap: summary data, the Excel workbook, the deck, anonymisation, sessions."""
