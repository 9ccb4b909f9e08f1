"""The residuals API, mounted at /api/v1/residuals/: schedules, exhibitions and writing credits
(records), runs and lines, statements."""
