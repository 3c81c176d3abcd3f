Feature: The operator console: exceptions to finish by hand, and the day's reconciliation
  As a shop owner switching card payments from TEST to REAL
  I want every payment the gateway could not finish by itself to reach my operator, who finishes it from the console,
  and a daily reconciliation that lists every disagreement between the gateway, the bank and Ecwid
  So that no paid order is lost or left unnoticed, and whoever acted is on record

  @RC-17 @simulator @desktop
  Scenario: Ecwid keeps refusing the store's token: the payment is kept, the operator is told, a retry finishes it
    Given Ecwid refuses the store's API token as revoked until it is renewed
    And a customer shopping in the store on a desktop browser
    When the customer orders 1 "Apricot jam" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then within 30 seconds the gateway opened an operator exception "ecwid_update_failed" for the payment
    And the bank order of the attempt has orderStatus 2 and actionCode 0
    And the gateway's attempt is "paid"
    And Ecwid refused every update of the order with HTTP 403 and accepted none
    When an operator signs in to the console
    And the operator opens the exceptions queue
    Then the queue shows the open exception "ecwid_update_failed" for the payment
    When the store's API token is renewed at Ecwid
    And the operator presses Retry on the payment's exception
    Then the console says "The status was delivered to Ecwid"
    And Ecwid's order is "PAID"
    And Ecwid accepted the payment statuses "PAID" in that order
    And the exception is resolved, by "qa"
    When the operator opens the payment from the queue
    Then the payment page shows the exception "ecwid_update_failed" resolved by "qa"
    And the payment's timeline shows the retry done by "qa"
    And the payment page shows the attempt "paid" and Ecwid "PAID"

  @RC-28 @simulator @desktop
  Scenario: The day's reconciliation lists the order changed in Ecwid behind the gateway's back, and the others as ok
    Given a customer who paid 3 orders by card in the store today
    When an operator signs in to the console
    And the operator refunds the refunded payment in full from the console
    And the shop's staff set the third order to "AWAITING_PAYMENT" by hand in Ecwid's admin
    And the operator opens today's reconciliation in the console
    Then the report lists the order changed in Ecwid as "ecwid_status_mismatch" with the action "retry the Ecwid update from the operator console"
    And the report lists the kept and the refunded payment as agreeing
    And the CSV of the day has these rows for the three orders:
      | order            | gateway_state | bank_state  | ecwid_payment_status | finding               |
      | kept             | paid          | 2 DEPOSITED | PAID                 | ok                    |
      | refunded         | refunded      | 4 REFUNDED  | REFUNDED             | ok                    |
      | changed in Ecwid | paid          | 2 DEPOSITED | AWAITING_PAYMENT     | ecwid_status_mismatch |
