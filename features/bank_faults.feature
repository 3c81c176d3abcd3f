Feature: The bank unavailable or slow at registration
  As a shop owner
  I want a customer whose payment the bank could not register to get a clear message and a working retry
  So that an outage never leaves a half-open payment or a lost customer behind

  @RC-26 @simulator @desktop
  Scenario Outline: The bank fails at registration: a clear message, nothing left open, and a retry pays
    Given a customer shopping in the store on a desktop browser in "<lang>"
    And the bank's next registration fails with <fault>
    When the customer orders 1 "Duduk" and tries to pay
    Then the customer sees the bank-unavailable page saying "<message>"
    And the bank holds <left> and the gateway left no registration open
    When the customer goes back to the store
    And the customer pays again with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And the payment was registered anew and the failed registration stays unpaid

    Examples:
      | fault                             | lang | message                                | left                        |
      | an HTTP 503                       | en   | The bank is temporarily unavailable    | no order                    |
      | errorCode 7                       | hy   | Բանկը ժամանակավորապես անհասանելի է     | no order                    |
      | a malformed answer                | ru   | Банк временно недоступен               | no order                    |
      | a dropped connection              | en   | The bank is temporarily unavailable    | no order                    |
      | its answer lost after registering | en   | The bank is temporarily unavailable    | only the lost order, unpaid |
      | no answer for 12 seconds          | en   | The bank is temporarily unavailable    | no order                    |

  @RC-26 @simulator @desktop
  Scenario: A slow bank at registration still takes the customer to the bank page
    Given a customer shopping in the store on a desktop browser
    And the bank's next registration answers after a 2 second delay
    When the customer orders 1 "Duduk" and tries to pay
    Then the customer is on the bank payment page
    When pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
