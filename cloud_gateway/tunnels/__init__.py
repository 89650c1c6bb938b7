"""Device tunnels, gateway side: device CA, enrolment, ``/tunnel/v1``, registry."""
