Feature: The configuration audit before REAL money
  As the operations engineer switching the gateway from TEST to REAL
  I want one command that checks the production configuration and names exactly what is missing or unsafe
  So that the switch never happens with a TEST leftover, an open console or a missing key

  @RC-30
  Scenario: A configuration ready for REAL passes the audit, which shows none of its secrets
    Given a gateway configuration ready for REAL
    When the operator runs the configuration audit
    Then the audit says the configuration is ready for REAL and exits 0

  @RC-30
  Scenario Outline: One unsafe setting in a REAL configuration is named, and only that one
    Given a gateway configuration ready for REAL
    When the setting <setting> is changed to "<value>"
    And the operator runs the configuration audit
    Then the audit says it is not ready, failing <check> with "<named>", and exits 1
    And no other check fails
    And the audit shows no secret of the configuration

    Examples:
      | setting                      | value                                         | check | named                |
      | VPOSLAB_PROVIDER_MODE        | TEST                                          | AU-01 | TEST                 |
      | VPOSLAB_PROVIDER_BASE_URL    | https://ipaytest.arca.am:8445/payment/rest/   | AU-02 | TEST                 |
      | VPOSLAB_PROVIDER_CREDENTIALS | <USD password emptied>                        | AU-03 | USD                  |
      | VPOSLAB_PUBLIC_URL           | http://pay.shop.am                            | AU-00 | https                |
      | VPOSLAB_PUBLIC_URL           | https://pay.staging.shop.am                   | AU-04 | TEST-looking         |
      | VPOSLAB_CALLBACK_KEY         | short-key                                     | AU-05 | shorter              |
      | FLASK_DEBUG                  | 1                                             | AU-06 | FLASK_DEBUG          |
      | VPOSLAB_CONSOLE_SECRET_KEY   | short-key                                     | AU-07 | console key          |
      | VPOSLAB_ECWID_API_URL        | https://sim.shop.am/api/v3                    | AU-08 | VPOSLAB_ECWID_API_URL |
      | VPOSLAB_DATABASE_URL         | sqlite:////var/lib/vposlab/gateway.sqlite3    | AU-09 | PostgreSQL           |
      | VPOSLAB_TOKEN_KEY            | <published sample key>                        | AU-11 | sample               |

  @RC-30
  Scenario: A configuration with the callback key missing is not ready
    Given a gateway configuration ready for REAL
    When the setting VPOSLAB_CALLBACK_KEY is removed
    And the operator runs the configuration audit
    Then the audit says it is not ready, failing AU-05 with "not set", and exits 1
    And no other check fails

  @RC-30 @simulator
  Scenario: The gateway's own TEST configuration is named not ready for REAL, part by part
    When the gateway's own configuration is audited
    Then the audit names every TEST-only part of it: AU-01, AU-02, AU-04, AU-08
    And the audit fails AU-09 exactly when the gateway's database is SQLite
