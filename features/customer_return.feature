Feature: The customer's return from the bank page
  As a shop owner
  I want the return to the store to be only a hint, never proof of payment
  So that a customer who did not pay, or a forged return URL, never marks an order paid

  @RC-13 @simulator @desktop
  Scenario: A customer who leaves the bank page without paying is back at checkout, not paid
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Apricot jam" and goes to pay
    And leaves the bank page without paying
    Then the customer is back at checkout with the message "not completed"
    And the Ecwid order is "INCOMPLETE"

  @RC-13 @simulator
  Scenario Outline: Visiting the gateway's return URL without paying does not pay the order
    Given an Ecwid order of 15000 AMD with a bank payment page open
    When someone opens the gateway's return URL with <which>
    Then the gateway answers <status>
    And the bank payment is still unpaid
    And the Ecwid order is "INCOMPLETE"

    Examples:
      | which                          | status |
      | a made-up orderId              | 404    |
      | the real orderId before paying | 303    |
