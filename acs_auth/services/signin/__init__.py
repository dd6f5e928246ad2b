"""Sign-in and sessions: the credential check, the sign-in seam, pending sign-ins, sessions."""
