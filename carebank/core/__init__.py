"""Infrastructure every feature uses: database, extensions, errors, i18n, policy, security, limits."""
