"""Portal-wide guards."""


class SecondFactorMiddleware:
    """Sends gestionnaires without a verified TOTP device to enrolment when the platform requires 2FA.

    Filled in by the accounts views (see accounts_views); a pass-through until then.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
