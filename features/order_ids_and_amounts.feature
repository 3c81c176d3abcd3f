Feature: Ecwid order ids and amounts as the bank sees them
  As a shop owner switching card payments from TEST to REAL
  I want every Ecwid order, whatever its id and total, to reach the bank as a compact reference and the exact amount
  So that each bank payment leads to its order and back, and money of another amount is never taken as paid

  @RC-15 @simulator @desktop
  Scenario Outline: An Ecwid order id like <id> gets a compact bank orderNumber, traceable both ways
    Given a customer shopping in the store on a desktop browser
    And an Ecwid order of 2014.97 USD whose id is <id>
    When the customer opens the order's checkout and pays with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And Ecwid records the order as "PAID"
    And the bank order's orderNumber is the gateway's compact reference, not the Ecwid order id
    And the gateway's records lead from the Ecwid order id to that bank order
    And the bank order leads back to the Ecwid order id
    And the bank has 1 new order

    Examples:
      | id                                                                         |
      | a long one made up by the store                                            |
      | an odd one made up by the store                                            |
      | "ORD-2026/11#A_b.c"                                                        |
      | "shop.example.am/orders/2026-11-23/#8842:customer_A.b+gift-wrap~long-tail" |

  @RC-18 @simulator @desktop
  Scenario Outline: The bank reports <what> than the order's: not paid, an operator exception
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Duduk" and goes to pay
    And the bank takes the payment but reports <report>
    And the customer's browser follows the bank back to the gateway
    Then the customer is back at checkout, not on a thank-you page
    And the gateway opened an operator exception "amount_mismatch" for the attempt saying "<says>"
    And the attempt is not paid, also after the gateway's poller asked the bank again
    And Ecwid was never told PAID, not even in a refused update
    And the bank has 1 new order

    Examples:
      | what             | report                                       | says            |
      | another amount   | an amount 1 minor unit less than the order's | bank reports    |
      | another currency | the currency "978" instead of the order's    | 978, registered |

  @RC-33 @simulator @desktop
  Scenario Outline: A shop total of <total> <currency> reaches the bank as exactly <minor> minor units and is paid
    Given a customer shopping in the store on a desktop browser
    And an Ecwid order whose total the shop computed as <total> <currency>
    When the customer opens the order's checkout and pays with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the bank registered exactly <minor> minor units in currency "<numeric>"
    And Ecwid records the order as "PAID"
    And the gateway's attempt is paid for exactly <minor> minor units
    And the gateway opened no operator exception for the order

    Examples:
      | total               | currency | minor     | numeric |
      | 2014.97             | AMD      | 201497    | 051     |
      | 0.30000000000000004 | USD      | 30        | 840     |
      | 19.99               | EUR      | 1999      | 978     |
      | 1234567.89          | RUB      | 123456789 | 643     |
      | 0.30000000000000004 | AMD      | 30        | 051     |
      | 1234567.89          | USD      | 123456789 | 840     |

  @RC-33 @simulator @desktop
  Scenario: A partial authorisation is never PAID: an operator exception instead
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Duduk" and goes to pay
    And the bank takes the payment but approves only half of the order's amount
    And the customer's browser follows the bank back to the gateway
    Then the customer is back at checkout, not on a thank-you page
    And the gateway opened an operator exception "amount_mismatch" for the attempt saying "bank deposited"
    And the attempt is not paid, also after the gateway's poller asked the bank again
    And Ecwid was never told PAID, not even in a refused update
    And the bank has 1 new order
