"""Prediction from history: the volume forecast (``volume``), the agents each hour needs
(``staffing``), and each waiting conversation's chance of breaching its target (``risk``).

Pure functions over numbers; the event lake supplies the history, the reports API and the SLA sweep
call them. docs/forecast.md explains the models and their figures.
"""
