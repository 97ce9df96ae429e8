"""Alerting: rules (TOML), a pure rule engine and delivery to Prometheus Alertmanager.

* :mod:`service.alerting.rules` loads and validates the rules file.
* :mod:`service.alerting.engine` turns window counts into alert lifecycle events; pure.
* :mod:`service.alerting.alertmanager` delivers events without ever blocking the stream.
"""
