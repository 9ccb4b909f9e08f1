"""Residuals in the staff admin; imported by compensation.admin so that they register."""
# schedules
# records
# runs
