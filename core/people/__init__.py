"""Reps and managers: competencies, coaching notes, leaderboard, incentives."""
